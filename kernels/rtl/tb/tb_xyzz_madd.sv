// tb_xyzz_madd.sv -- xyzz_madd against xyzz_madd.hex (gen_vectors.py: generic additions,
// doubling, opposite points, empty buckets, ZZ = 1 buckets): one addition issued per
// cycle, each result (and its tag) checked ADD_LATENCY cycles later, exactly.
module tb_xyzz_madd
  import zk_bn254_pkg::*;
(
    input logic clk
);
  localparam int NV = 60;
  localparam int WPV = 12;  // words per vector
  logic [255:0] vec[WPV * NV];
  int cycle = 0;
  int errors = 0;
  int seen = 0;

  logic in_valid;
  logic [7:0] in_tag;
  logic o_valid, o_inf;
  logic [7:0] o_tag;
  logic [255:0] o_x, o_y, o_zz, o_zzz;
  int base;

  initial $readmemh("xyzz_madd.hex", vec);

  assign in_valid = cycle < NV;
  assign in_tag = 8'(cycle);
  assign base = WPV * ((cycle < NV) ? cycle : 0);

  xyzz_madd #(.TAGW(8)) dut (
      .clk,
      .in_valid,
      .in_tag,
      .in_binf(vec[base][0]),
      .in_x1(vec[base + 1]),
      .in_y1(vec[base + 2]),
      .in_zz1(vec[base + 3]),
      .in_zzz1(vec[base + 4]),
      .in_x2(vec[base + 5]),
      .in_y2(vec[base + 6]),
      .out_valid(o_valid),
      .out_tag(o_tag),
      .out_inf(o_inf),
      .out_x3(o_x),
      .out_y3(o_y),
      .out_zz3(o_zz),
      .out_zzz3(o_zzz)
  );

  always_ff @(posedge clk) begin
    cycle <= cycle + 1;
    if (o_valid) begin
      int i;
      i = int'(o_tag);
      seen <= seen + 1;
      if (cycle != i + ADD_LATENCY) begin
        $display("FAIL xyzz_madd vector %0d: came out at cycle %0d, expected %0d", i, cycle,
                 i + ADD_LATENCY);
        errors <= errors + 1;
      end else if (o_inf !== vec[WPV * i + 7][0] || o_x !== vec[WPV * i + 8]
                   || o_y !== vec[WPV * i + 9] || o_zz !== vec[WPV * i + 10]
                   || o_zzz !== vec[WPV * i + 11]) begin
        $display("FAIL xyzz_madd vector %0d (case %0d): got inf=%0d X=%h Y=%h ZZ=%h ZZZ=%h",
                 i, i % 6, o_inf, o_x, o_y, o_zz, o_zzz);
        errors <= errors + 1;
      end
    end
    if (cycle == NV + ADD_LATENCY + 2) begin
      if (seen != NV) begin
        $display("FAIL xyzz_madd: %0d results for %0d inputs", seen, NV);
        $stop;
      end
      if (errors == 0) $display("PASS xyzz_madd: %0d vectors, latency %0d", NV, ADD_LATENCY);
      else $display("FAIL xyzz_madd: %0d of %0d vectors wrong", errors, NV);
      if (errors != 0) $stop;
      $finish;
    end
  end
endmodule
