// mont_mul.sv -- pipelined Montgomery multiplier for the BN254 base field.
//
// r = a * b * 2^-256 mod p, a and b < p (Montgomery form), r < p.
//
// Structure: CIOS (Coarsely Integrated Operand Scanning; Koc, Acar, Kaliski, IEEE Micro
// 1996) with 64-bit limbs, unrolled across the pipeline: stage k (k = 0..3) multiplies the
// whole 256-bit operand b by limb k of a, adds it to the running sum, computes the reduction
// digit m = t[63:0] * (-p^-1) mod 2^64, adds m*p and shifts right by one limb. Stage 4 makes
// the final conditional subtraction (the CIOS sum is < 2p when a, b < p).
//
// Latency: LATENCY = 5 cycles, fixed. Throughput: one new product accepted every cycle
// (fully pipelined, no feedback), so each instance is a 5-deep pipeline of independent
// products. On an FPGA each stage's 256x64 products map to DSP slices (about 4x16 = 64
// 27x18 DSPs per stage for the operand product plus the same for m*p); a synthesized image
// would split every stage further (Karatsuba-Ofman, as in the ZPrize 2022 Hardcaml MSM) to
// reach its clock target. This RTL favours a short, readable pipeline that Verilator
// simulates quickly; its depth is reported in CAPS through the adder's depth.
module mont_mul
  import zk_bn254_pkg::*;
(
    input  logic         clk,
    input  logic [255:0] a,
    input  logic [255:0] b,
    output logic [255:0] r
);
  // Latency: zk_bn254_pkg::MUL_LATENCY (5) cycles from a, b to r.

  // One CIOS step: (acc + ai*b + m*p) / 2^64 with m chosen so the low limb vanishes.
  function automatic logic [255:0] cios_step(input logic [255:0] acc, input logic [63:0] ai,
                                             input logic [255:0] bb);
    logic [319:0] t;
    logic [63:0]  m;
    // The low limb of u is zero by the choice of m; only u[319:64] is kept.
    /* verilator lint_off UNUSEDSIGNAL */
    logic [319:0] u;
    /* verilator lint_on UNUSEDSIGNAL */
    t = {64'd0, acc} + ({256'd0, ai} * {64'd0, bb});
    m = t[63:0] * PINV;  // mod 2^64: the product is truncated to 64 bits on purpose
    u = t + ({256'd0, m} * {64'd0, P});
    cios_step = u[319:64];
  endfunction

  // Pipeline registers: running sum, the limbs of a still to be used, and b.
  logic [255:0] acc_q [4];
  logic [255:0] a_q   [3];
  logic [255:0] b_q   [3];
  logic [255:0] r_q;

  always_ff @(posedge clk) begin
    acc_q[0] <= cios_step(256'd0, a[63:0], b);
    a_q[0]   <= a;
    b_q[0]   <= b;
    for (int k = 1; k < 4; k++) begin
      acc_q[k] <= cios_step(acc_q[k-1], a_q[k-1][64*k +: 64], b_q[k-1]);
    end
    for (int k = 1; k < 3; k++) begin
      a_q[k] <= a_q[k-1];
      b_q[k] <= b_q[k-1];
    end
    r_q <= (acc_q[3] >= P) ? (acc_q[3] - P) : acc_q[3];
  end

  assign r = r_q;

endmodule
