// tb_mont_mul.sv -- mont_mul against mont_mul.hex (a, b, a*b/R mod p from gen_vectors.py):
// one product issued per cycle, every result checked MUL_LATENCY cycles later.
module tb_mont_mul
  import zk_bn254_pkg::*;
(
    input logic clk
);
  localparam int NV = 264;
  logic [255:0] vec[3 * NV];
  logic [255:0] a, b, r;
  int cycle = 0;
  int errors = 0;

  mont_mul dut (.clk, .a, .b, .r);

  initial $readmemh("mont_mul.hex", vec);

  always_comb begin
    a = (cycle < NV) ? vec[3 * cycle] : 256'd0;
    b = (cycle < NV) ? vec[3 * cycle + 1] : 256'd0;
  end

  always_ff @(posedge clk) begin
    cycle <= cycle + 1;
    if (cycle >= MUL_LATENCY && cycle < NV + MUL_LATENCY) begin
      if (r !== vec[3 * (cycle - MUL_LATENCY) + 2]) begin
        $display("FAIL mont_mul vector %0d: got %h want %h", cycle - MUL_LATENCY, r,
                 vec[3 * (cycle - MUL_LATENCY) + 2]);
        errors <= errors + 1;
      end
    end
    if (cycle == NV + MUL_LATENCY) begin
      if (errors == 0) $display("PASS mont_mul: %0d vectors, latency %0d", NV, MUL_LATENCY);
      else $display("FAIL mont_mul: %0d of %0d vectors wrong", errors, NV);
      if (errors != 0) $stop;
      $finish;
    end
  end
endmodule
