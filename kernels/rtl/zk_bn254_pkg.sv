// zk_bn254_pkg.sv -- constants and modular helpers for the BN254 base field F_p.
//
// p = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47 (254 bits).
// Elements travel in Montgomery form with R = 2^256, fully reduced (< p), as 256-bit
// little-endian words: bit 64*k+j is bit j of 64-bit limb k, the same bytes the host's
// `Bn254Fq` holds (four little-endian u64 limbs).
//
// All helpers assume their inputs are < p and return values < p.
package zk_bn254_pkg;

  // Waiver: each module imports the whole package but uses only some of its constants.
  /* verilator lint_off UNUSEDPARAM */
  localparam logic [255:0] P = 256'h30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47;
  // -p^{-1} mod 2^64, the CIOS reduction constant (Koc, Acar, Kaliski, "Analyzing and
  // comparing Montgomery multiplication algorithms", IEEE Micro 1996, section on CIOS).
  localparam logic [63:0] PINV = 64'h87d20782e4866389;
  // 1 in Montgomery form: R mod p.
  localparam logic [255:0] ONE_MONT = 256'h0e0a77c19a07df2f666ea36f7879462c0a78eb28f5c70b3dd35d438dc58f0d9d;
  // Cycles from a mont_mul's operands to its product.
  localparam int MUL_LATENCY = 5;
  // Cycles from an xyzz_madd's operands to its result: four multiplier levels and three
  // single-cycle add/select stages (see xyzz_madd.sv).
  localparam int ADD_LATENCY = 4 * MUL_LATENCY + 3;
  /* verilator lint_on UNUSEDPARAM */

  // a + b mod p. a, b < p < 2^254, so the sum fits in 255 bits.
  function automatic logic [255:0] add_mod(input logic [255:0] a, input logic [255:0] b);
    logic [256:0] s;
    logic [256:0] d;
    s = {1'b0, a} + {1'b0, b};
    d = s - {1'b0, P};
    add_mod = d[256] ? s[255:0] : d[255:0];
  endfunction

  // a - b mod p.
  function automatic logic [255:0] sub_mod(input logic [255:0] a, input logic [255:0] b);
    logic [256:0] d;
    d = {1'b0, a} - {1'b0, b};
    sub_mod = d[256] ? (d[255:0] + P) : d[255:0];
  endfunction

  // -a mod p.
  function automatic logic [255:0] neg_mod(input logic [255:0] a);
    neg_mod = (a == 256'd0) ? 256'd0 : (P - a);
  endfunction

endpackage
