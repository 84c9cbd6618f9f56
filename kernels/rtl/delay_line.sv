// delay_line.sv -- a W-bit shift register of DEPTH stages (DEPTH >= 1): q = d delayed by
// DEPTH cycles. Used to carry operands and flags alongside the multipliers.
module delay_line #(
    parameter int W = 1,
    parameter int DEPTH = 1
) (
    input  logic         clk,
    input  logic [W-1:0] d,
    output logic [W-1:0] q
);
  logic [W-1:0] sr[DEPTH];
  always_ff @(posedge clk) begin
    sr[0] <= d;
    for (int k = 1; k < DEPTH; k++) sr[k] <= sr[k-1];
  end
  assign q = sr[DEPTH-1];
endmodule
