// xyzz_madd.sv -- pipelined mixed point addition on BN254 G1 (y^2 = x^3 + 3):
// bucket (X1, Y1, ZZ1, ZZZ1) in XYZZ coordinates += affine point (x2, y2).
//
// Formula: "madd-2008-s" for XYZZ coordinates from the Explicit-Formulas Database
// (https://hyperelliptic.org/EFD/g1p/auto-shortw-xyzz.html#addition-madd-2008-s,
// Sutherland 2008):
//   U2 = x2*ZZ1, S2 = y2*ZZZ1, P = U2-X1, R = S2-Y1, PP = P^2, PPP = P*PP, Q = X1*PP,
//   X3 = R^2-PPP-2Q, Y3 = R*(Q-X3)-Y1*PPP, ZZ3 = ZZ1*PP, ZZZ3 = ZZZ1*PPP.
// Why XYZZ: a mixed addition costs 8M + 2S with no inversion, every multiplication level
// has at most three independent products (a short, wide pipeline), and ZZ/ZZZ are what the
// GPU kernels (kernels/gpu/curve_xyzz.h) and the host (zkaccel_backend::Xyzz) already use,
// so buckets read back from the card are host `Xyzz<Bn254G1>` values byte for byte.
//
// madd-2008-s is not complete; the exceptional cases are handled explicitly:
// - bucket at infinity (binf): the result is (x2, y2, 1, 1);
// - P = 0 and R = 0 (the point equals the bucket): doubling. "mdbl-2008-s-1" (same EFD page:
//   U = 2*y2, V = U^2, W = U*V, S = x2*V, M = 3*x2^2, X3 = M^2-2S, Y3 = M*(S-X3)-W*y2,
//   ZZ3 = V, ZZZ3 = W) has the same shape as madd-2008-s under the substitution
//   P := 2*y2, R := 3*x2^2, (X1, Y1, ZZ1, ZZZ1) := (x2, y2, 1, 1), with the "-PPP" term of X3
//   dropped. x2^2 is computed in the first level next to U2 and S2, and the operands of the
//   later levels are switched after the first level, so doubling shares the whole pipeline
//   and takes the same number of cycles;
// - P = 0 and R != 0 (the point is the bucket's negation): the result is infinity.
// Precondition: (x2, y2) is not the point at infinity (the engine never issues one: the
// host gives infinity bases the scalar 0, and zero digits are never issued).
//
// Pipeline (ML = MUL_LATENCY):
//   level A (ML): U2 = x2*ZZ1, S2 = y2*ZZZ1, XX = x2*x2
//   stage B (1):  P, R, case detection, operand switch for doubling
//   level B (ML): PP = P^2, RR = R^2
//   level C (ML): PPP = P*PP, Q = X1*PP, ZZ3 = ZZ1*PP
//   stage D (1):  X3 = RR - PPP - 2Q (PPP omitted when doubling), T = Q - X3
//   level E (ML): R*T, Y1*PPP, ZZZ3 = ZZZ1*PPP
//   stage F (1):  Y3 = R*T - Y1*PPP, special-case selection, output register
// Latency ADD_LATENCY = 4*ML + 3 = 23 cycles; one new addition accepted every cycle (11
// multipliers, all busy when the pipeline is full). Results come out in issue order.
// Stage D chains four modular additions in one cycle; a synthesized image would split it.
module xyzz_madd
  import zk_bn254_pkg::*;
#(
    parameter int TAGW = 8
) (
    input  logic            clk,
    input  logic            in_valid,
    input  logic [TAGW-1:0] in_tag,
    input  logic            in_binf,   // bucket is the point at infinity
    input  logic [255:0]    in_x1,
    input  logic [255:0]    in_y1,
    input  logic [255:0]    in_zz1,
    input  logic [255:0]    in_zzz1,
    input  logic [255:0]    in_x2,
    input  logic [255:0]    in_y2,
    output logic            out_valid,
    output logic [TAGW-1:0] out_tag,
    output logic            out_inf,   // result is the point at infinity
    output logic [255:0]    out_x3,
    output logic [255:0]    out_y3,
    output logic [255:0]    out_zz3,
    output logic [255:0]    out_zzz3
);
  localparam int ML = MUL_LATENCY;

  // ---------------- level A ----------------
  logic [255:0] a_u2, a_s2, a_xx;
  mont_mul mA0 (.clk, .a(in_x2), .b(in_zz1),  .r(a_u2));
  mont_mul mA1 (.clk, .a(in_y2), .b(in_zzz1), .r(a_s2));
  mont_mul mA2 (.clk, .a(in_x2), .b(in_x2),   .r(a_xx));

  localparam int WA = 2 + TAGW + 6 * 256;
  logic            a_valid, a_binf;
  logic [TAGW-1:0] a_tag;
  logic [255:0]    a_x1, a_y1, a_zz1, a_zzz1, a_x2, a_y2;
  delay_line #(.W(WA), .DEPTH(ML)) dA (
      .clk,
      .d({in_valid, in_binf, in_tag, in_x1, in_y1, in_zz1, in_zzz1, in_x2, in_y2}),
      .q({a_valid, a_binf, a_tag, a_x1, a_y1, a_zz1, a_zzz1, a_x2, a_y2})
  );

  // ---------------- stage B ----------------
  logic            b_valid, b_binf, b_neg, b_subppp;
  logic [TAGW-1:0] b_tag;
  logic [255:0]    b_p, b_r, b_x1, b_y1, b_zz1, b_zzz1, b_x2, b_y2;
  always_ff @(posedge clk) begin
    logic [255:0] p, r;
    logic dbl;
    p = sub_mod(a_u2, a_x1);
    r = sub_mod(a_s2, a_y1);
    dbl = (p == 256'd0) && (r == 256'd0);
    b_valid  <= a_valid;
    b_binf   <= a_binf;
    b_tag    <= a_tag;
    b_x2     <= a_x2;
    b_y2     <= a_y2;
    b_neg    <= (p == 256'd0) && (r != 256'd0);
    b_subppp <= !dbl;
    if (dbl) begin
      b_p    <= add_mod(a_y2, a_y2);
      b_r    <= add_mod(add_mod(a_xx, a_xx), a_xx);
      b_x1   <= a_x2;
      b_y1   <= a_y2;
      b_zz1  <= ONE_MONT;
      b_zzz1 <= ONE_MONT;
    end else begin
      b_p    <= p;
      b_r    <= r;
      b_x1   <= a_x1;
      b_y1   <= a_y1;
      b_zz1  <= a_zz1;
      b_zzz1 <= a_zzz1;
    end
  end

  // ---------------- level B ----------------
  logic [255:0] bb_pp, bb_rr;
  mont_mul mB0 (.clk, .a(b_p), .b(b_p), .r(bb_pp));
  mont_mul mB1 (.clk, .a(b_r), .b(b_r), .r(bb_rr));

  localparam int WB = 4 + TAGW + 8 * 256;
  logic            bb_valid, bb_binf, bb_neg, bb_subppp;
  logic [TAGW-1:0] bb_tag;
  logic [255:0]    bb_p, bb_r, bb_x1, bb_y1, bb_zz1, bb_zzz1, bb_x2, bb_y2;
  delay_line #(.W(WB), .DEPTH(ML)) dB (
      .clk,
      .d({b_valid, b_binf, b_neg, b_subppp, b_tag, b_p, b_r, b_x1, b_y1, b_zz1, b_zzz1, b_x2, b_y2}),
      .q({bb_valid, bb_binf, bb_neg, bb_subppp, bb_tag, bb_p, bb_r, bb_x1, bb_y1, bb_zz1, bb_zzz1,
          bb_x2, bb_y2})
  );

  // ---------------- level C ----------------
  logic [255:0] c_ppp, c_q, c_zz3;
  mont_mul mC0 (.clk, .a(bb_p),   .b(bb_pp), .r(c_ppp));
  mont_mul mC1 (.clk, .a(bb_x1),  .b(bb_pp), .r(c_q));
  mont_mul mC2 (.clk, .a(bb_zz1), .b(bb_pp), .r(c_zz3));

  localparam int WC = 4 + TAGW + 6 * 256;
  logic            c_valid, c_binf, c_neg, c_subppp;
  logic [TAGW-1:0] c_tag;
  logic [255:0]    c_rr, c_r, c_y1, c_zzz1, c_x2, c_y2;
  delay_line #(.W(WC), .DEPTH(ML)) dC (
      .clk,
      .d({bb_valid, bb_binf, bb_neg, bb_subppp, bb_tag, bb_rr, bb_r, bb_y1, bb_zzz1, bb_x2, bb_y2}),
      .q({c_valid, c_binf, c_neg, c_subppp, c_tag, c_rr, c_r, c_y1, c_zzz1, c_x2, c_y2})
  );

  // ---------------- stage D ----------------
  logic            d_valid, d_binf, d_neg;
  logic [TAGW-1:0] d_tag;
  logic [255:0]    d_x3, d_t, d_ppp, d_zz3, d_r, d_y1, d_zzz1, d_x2, d_y2;
  always_ff @(posedge clk) begin
    logic [255:0] x3;
    x3 = sub_mod(sub_mod(c_rr, c_subppp ? c_ppp : 256'd0), add_mod(c_q, c_q));
    d_x3    <= x3;
    d_t     <= sub_mod(c_q, x3);
    d_ppp   <= c_ppp;
    d_zz3   <= c_zz3;
    d_r     <= c_r;
    d_y1    <= c_y1;
    d_zzz1  <= c_zzz1;
    d_x2    <= c_x2;
    d_y2    <= c_y2;
    d_valid <= c_valid;
    d_binf  <= c_binf;
    d_neg   <= c_neg;
    d_tag   <= c_tag;
  end

  // ---------------- level E ----------------
  logic [255:0] e_rt, e_yppp, e_zzz3;
  mont_mul mE0 (.clk, .a(d_r),    .b(d_t),   .r(e_rt));
  mont_mul mE1 (.clk, .a(d_y1),   .b(d_ppp), .r(e_yppp));
  mont_mul mE2 (.clk, .a(d_zzz1), .b(d_ppp), .r(e_zzz3));

  localparam int WE = 3 + TAGW + 4 * 256;
  logic            e_valid, e_binf, e_neg;
  logic [TAGW-1:0] e_tag;
  logic [255:0]    e_x3, e_zz3, e_x2, e_y2;
  delay_line #(.W(WE), .DEPTH(ML)) dE (
      .clk,
      .d({d_valid, d_binf, d_neg, d_tag, d_x3, d_zz3, d_x2, d_y2}),
      .q({e_valid, e_binf, e_neg, e_tag, e_x3, e_zz3, e_x2, e_y2})
  );

  // ---------------- stage F ----------------
  always_ff @(posedge clk) begin
    out_valid <= e_valid;
    out_tag   <= e_tag;
    if (e_binf) begin
      out_inf  <= 1'b0;
      out_x3   <= e_x2;
      out_y3   <= e_y2;
      out_zz3  <= ONE_MONT;
      out_zzz3 <= ONE_MONT;
    end else if (e_neg) begin
      out_inf  <= 1'b1;
      out_x3   <= ONE_MONT;
      out_y3   <= ONE_MONT;
      out_zz3  <= 256'd0;
      out_zzz3 <= 256'd0;
    end else begin
      out_inf  <= 1'b0;
      out_x3   <= e_x3;
      out_y3   <= sub_mod(e_rt, e_yppp);
      out_zz3  <= e_zz3;
      out_zzz3 <= e_zzz3;
    end
  end
endmodule
