// zkaccel_msm_bn254.sv -- MSM bucket-accumulation engine for BN254 G1 (top level).
//
// One run (ap_start .. ap_done) is one window pass of Pippenger's bucket method: for every
// point i < NUM_POINTS the slicer takes the signed c-bit digit of scalar i for window
// WINDOW_INDEX, and the point (negated for a negative digit) is added into bucket |digit|-1
// by the pipelined XYZZ mixed adder. The host then reads the 2^(c-1) buckets back (DMA) and
// reduces them; the bucket reduction and the window combination run on the host CPU. The
// split follows the ZPrize 2022 FPGA winner (Jane Street's Hardcaml MSM) and Jump Crypto's
// CycloneMSM: the card accumulates buckets, the host finishes.
//
// Signed digits: with raw = scalar bits [w*c, w*c+c) + carry_in(w), a raw value above
// 2^(c-1) becomes raw - 2^c with a carry of 1 into window w+1; digits lie in
// [-(2^(c-1)-1), 2^(c-1)], so 2^(c-1) buckets per window. Carries live in a one-bit-per-point
// memory written during pass w and read during pass w+1 (passes must run in window order
// 0, 1, 2, ...; pass 0 reads no carries). With ceil(255/c) windows every scalar < 2^254
// is covered with no carry out of the last window.
//
// Scoreboard: a bit per bucket marks a bucket whose addition is still inside the adder
// pipeline; a point may only be issued to an unmarked bucket (the bucket memory then holds
// its up-to-date sum). Conflicts are resolved by reordering, as in CycloneMSM and the
// ZPrize 2022 Hardcaml MSM: a point whose bucket is busy is parked in a small deferral
// FIFO (QDEPTH entries: point index, bucket, sign) and the slicer moves on. Each cycle the
// FIFO's head is issued first when its bucket is free; otherwise the slicer's current
// point is issued when its bucket is free, parked when it is not, and the slicer stalls
// only when the FIFO is full. STALL_CYCLES counts the cycles in which neither an addition
// was issued nor the slicer advanced (it was waiting on the scoreboard). Additions are
// commutative, so the reordering does not change the bucket sums. Zero digits are skipped
// in one cycle without using the adder.
//
// ---------------------------------------------------------------------------------------
// Register map (32-bit registers, byte offsets; XRT ap_ctrl_hs compatible control block)
//   0x00 CTRL        bit0 ap_start (RW; cleared by the engine when it finishes)
//                    bit1 ap_done  (RO, clear on read) bit2 ap_idle (RO)
//                    bit3 ap_ready (RO, clear on read)
//   0x04 GIE         bit0 global interrupt enable
//   0x08 IER         bit0 ap_done interrupt enable, bit1 ap_ready interrupt enable
//   0x0C ISR         bit0 ap_done, bit1 ap_ready (toggle on write of 1)
//   0x10 NUM_POINTS  points in this pass (<= MAX_POINTS)
//   0x18 WINDOW_BITS c, 1 <= c <= MAX_WINDOW_BITS
//   0x20 WINDOW_IDX  window index w (bits [w*c, w*c+c) of each scalar)
//   0x40 IMAGE_ID    (RO) image identifier, must match the manifest
//   0x44 VERSION     (RO) register-map version: major << 16 | minor
//   0x48 CAPS        (RO) [7:0] curve id (1 = BN254, zkaccel CurveId numbering),
//                    [11:8] group (1 = G1), [15:12] max window bits,
//                    [23:16] adder pipeline depth (cycles), [31:24] log2(MAX_POINTS)
//   0x50/0x54 CYCLES_LO/HI  (RO) cycles of the last run, ap_start to ap_done
//   0x58/0x5C BUSY_LO/HI    (RO) cycles in which the adder accepted an addition
//   0x60/0x64 STALL_LO/HI   (RO) cycles with no issue and no slicer progress (waiting on
//                           the scoreboard with the deferral FIFO full or blocked)
// Out-of-range arguments (NUM_POINTS > MAX_POINTS, c = 0 or c > MAX_WINDOW_BITS) make the
// run finish immediately with no work; the host driver never sends them.
//
// Card memory (DMA byte addresses, 32-byte beats, little-endian 256-bit words; the DMA
// port takes beat addresses = byte address / 32, region in beat-address bits [25:24])
//   0x00000000 + 64*i   point i: x (beat 0), y (beat 1), Montgomery form, write-only
//   0x20000000 + 32*i   scalar i: canonical integer, write-only
//   0x40000000 + 128*b  bucket b (digit magnitude b+1): X, Y, ZZ, ZZZ (Montgomery),
//                       read-only; an empty bucket reads as (1, 1, 0, 0), i.e. ZZ = 0.
// The DMA port moves one beat per cycle and must not be used while a run is in progress.
// ---------------------------------------------------------------------------------------
module zkaccel_msm_bn254
  import zk_bn254_pkg::*;
#(
    parameter logic [31:0] IMAGE_ID = 32'h7A6B_0001,
    parameter int LOG_MAX_POINTS = 10,
    parameter int MAX_WINDOW_BITS = 8,
    parameter int LOG_QDEPTH = 3
) (
    input  logic         clk,
    input  logic         rst_n,
    // register port (an AXI4-Lite slave in a shell wraps this; reads are combinational)
    input  logic         reg_wen,
    input  logic [11:0]  reg_waddr,
    input  logic [31:0]  reg_wdata,
    input  logic         reg_ren,     // read strobe: clear-on-read side effects
    input  logic [11:0]  reg_raddr,
    output logic [31:0]  reg_rdata,
    // DMA port (the XDMA AXI-MM master writes/reads card memory through this)
    // Beat addresses (byte address / 32) span the whole 64 MiB card window; only the region
    // bits [25:24] and the index bits the memories need are decoded, by design.
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic         dma_wen,
    input  logic [25:0]  dma_waddr,
    input  logic [255:0] dma_wdata,
    input  logic [25:0]  dma_raddr,
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [255:0] dma_rdata,
    output logic         irq
);
  localparam int MAX_POINTS = 1 << LOG_MAX_POINTS;
  localparam int NB = 1 << (MAX_WINDOW_BITS - 1);  // buckets
  localparam int BW = MAX_WINDOW_BITS - 1;          // bucket index width
  localparam int QDEPTH = 1 << LOG_QDEPTH;          // deferral FIFO entries
  localparam logic [15:0] VERSION_MAJOR = 16'd1;
  localparam logic [15:0] VERSION_MINOR = 16'd0;
  localparam logic [7:0] CURVE_ID = 8'd1;
  localparam logic [3:0] GROUP_ID = 4'd1;
  localparam logic [31:0] CAPS = {LOG_MAX_POINTS[7:0], ADD_LATENCY[7:0],
                                  MAX_WINDOW_BITS[3:0], GROUP_ID, CURVE_ID};

  // ---------------- memories ----------------
  logic [255:0] mem_px   [MAX_POINTS];
  logic [255:0] mem_py   [MAX_POINTS];
  logic [255:0] mem_s    [MAX_POINTS];
  logic         mem_carry[MAX_POINTS];
  logic [255:0] bk_x     [NB];
  logic [255:0] bk_y     [NB];
  logic [255:0] bk_zz    [NB];
  logic [255:0] bk_zzz   [NB];
  logic [NB-1:0] bk_valid;     // bucket holds a finite sum
  logic [NB-1:0] bk_inflight;  // scoreboard: bucket has an addition in the pipeline

  // ---------------- registers ----------------
  logic        ap_start, ap_done, ap_ready, gie;
  logic [1:0]  ier, isr;
  logic [31:0] arg_n, arg_c, arg_w;
  logic [63:0] cnt_cycles, cnt_busy, cnt_stall;

  typedef enum logic [1:0] {S_IDLE, S_RUN, S_DRAIN, S_DONE} state_t;
  state_t state;
  logic [LOG_MAX_POINTS:0] idx;      // next point
  logic [31:0]  n_q;                 // latched arguments
  logic [3:0]   c_q;
  logic [7:0]   shift_q;             // w * c
  logic         first_q;             // window 0: no carries in
  logic         args_ok;

  assign args_ok = (arg_n <= MAX_POINTS) && (arg_c >= 1) && (arg_c <= MAX_WINDOW_BITS)
                   && (arg_w * arg_c < 256);

  // ---------------- slicer ----------------
  logic [LOG_MAX_POINTS-1:0] pi;
  logic [7:0]   s_win;        // scalar bits [w*c, w*c+8)
  logic [8:0]   raw;          // c-bit window + carry, at most 2^c
  logic [8:0]   half, full;
  logic         dig_neg, carry_out;
  logic [8:0]   mag;
  logic [BW-1:0] bucket;
  logic         have_point, want_add, stall, issue, advance;
  // deferral FIFO
  logic [LOG_MAX_POINTS-1:0] q_idx[QDEPTH];
  logic [BW-1:0] q_bucket[QDEPTH];
  logic          q_neg[QDEPTH];
  logic [LOG_QDEPTH-1:0] q_head, q_tail;
  logic [LOG_QDEPTH:0]   q_count;
  logic          q_ready;    // the FIFO head's bucket is free: issue it
  logic          s_issue;    // the slicer's point is issued
  logic          s_park;     // the slicer's point is parked in the FIFO
  logic [BW-1:0] a_bucket;   // what goes to the adder this cycle
  logic [LOG_MAX_POINTS-1:0] a_idx;
  logic          a_neg;
  assign pi = idx[LOG_MAX_POINTS-1:0];
  assign s_win = 8'(mem_s[pi] >> shift_q);
  assign full = 9'd1 << c_q;
  assign half = full >> 1;
  assign raw = {1'b0, s_win & (full[7:0] - 8'd1)} + {8'd0, (!first_q) & mem_carry[pi]};
  assign dig_neg = raw > half;
  assign carry_out = dig_neg;
  assign mag = dig_neg ? (full - raw) : raw;
  assign bucket = BW'(mag - 9'd1);
  assign have_point = (state == S_RUN) && ({1'b0, 31'(idx)} < n_q);
  assign want_add = have_point && (mag != 9'd0);
  assign q_ready = (state == S_RUN) && (q_count != 0) && !bk_inflight[q_bucket[q_head]];
  assign s_issue = want_add && !q_ready && !bk_inflight[bucket];
  // Park when the bucket is busy or the adder is taken by the FIFO head; a slot freed by
  // this cycle's pop is not reused in the same cycle (keeps the full test simple).
  assign s_park = want_add && !s_issue && (q_count != (LOG_QDEPTH + 1)'(QDEPTH));
  assign issue = q_ready || s_issue;
  assign advance = have_point && (!want_add || s_issue || s_park);
  assign stall = (state == S_RUN) && !issue && !advance && (have_point || q_count != 0);
  assign a_bucket = q_ready ? q_bucket[q_head] : bucket;
  assign a_idx = q_ready ? q_idx[q_head] : pi;
  assign a_neg = q_ready ? q_neg[q_head] : dig_neg;

  // ---------------- adder ----------------
  logic         o_valid, o_inf;
  logic [BW-1:0] o_tag;
  logic [255:0] o_x, o_y, o_zz, o_zzz;
  xyzz_madd #(.TAGW(BW)) adder (
      .clk,
      .in_valid(issue),
      .in_tag(a_bucket),
      .in_binf(!bk_valid[a_bucket]),
      .in_x1(bk_x[a_bucket]),
      .in_y1(bk_y[a_bucket]),
      .in_zz1(bk_zz[a_bucket]),
      .in_zzz1(bk_zzz[a_bucket]),
      .in_x2(mem_px[a_idx]),
      .in_y2(a_neg ? neg_mod(mem_py[a_idx]) : mem_py[a_idx]),
      .out_valid(o_valid),
      .out_tag(o_tag),
      .out_inf(o_inf),
      .out_x3(o_x),
      .out_y3(o_y),
      .out_zz3(o_zz),
      .out_zzz3(o_zzz)
  );

  // ---------------- control ----------------
  always_ff @(posedge clk) begin
    if (!rst_n) begin
      state       <= S_IDLE;
      ap_start    <= 1'b0;
      ap_done     <= 1'b0;
      ap_ready    <= 1'b0;
      gie         <= 1'b0;
      ier         <= 2'b0;
      isr         <= 2'b0;
      arg_n       <= 32'd0;
      arg_c       <= 32'd1;
      arg_w       <= 32'd0;
      cnt_cycles  <= 64'd0;
      cnt_busy    <= 64'd0;
      cnt_stall   <= 64'd0;
      bk_valid    <= '0;
      bk_inflight <= '0;
      idx         <= '0;
      q_head      <= '0;
      q_tail      <= '0;
      q_count     <= '0;
      n_q         <= 32'd0;
      c_q         <= 4'd1;
      shift_q     <= 8'd0;
      first_q     <= 1'b1;
    end else begin
      // register writes
      if (reg_wen) begin
        case (reg_waddr)
          12'h000: if (reg_wdata[0]) ap_start <= 1'b1;
          12'h004: gie <= reg_wdata[0];
          12'h008: ier <= reg_wdata[1:0];
          12'h00C: isr <= isr ^ reg_wdata[1:0];
          12'h010: arg_n <= reg_wdata;
          12'h018: arg_c <= reg_wdata;
          12'h020: arg_w <= reg_wdata;
          default: ;
        endcase
      end
      if (reg_ren && reg_raddr == 12'h000) begin
        ap_done  <= 1'b0;
        ap_ready <= 1'b0;
      end

      // write-back from the adder (never the bucket being issued this cycle: it is in flight)
      if (o_valid) begin
        bk_x[o_tag]        <= o_x;
        bk_y[o_tag]        <= o_y;
        bk_zz[o_tag]       <= o_zz;
        bk_zzz[o_tag]      <= o_zzz;
        bk_valid[o_tag]    <= !o_inf;
        bk_inflight[o_tag] <= 1'b0;
      end

      case (state)
        S_IDLE: begin
          if (ap_start) begin
            cnt_cycles <= 64'd1;
            cnt_busy   <= 64'd0;
            cnt_stall  <= 64'd0;
            bk_valid   <= '0;
            idx        <= '0;
            n_q        <= args_ok ? arg_n : 32'd0;
            c_q        <= args_ok ? arg_c[3:0] : 4'd1;
            shift_q    <= args_ok ? 8'(arg_w * arg_c) : 8'd0;
            first_q    <= (arg_w == 32'd0);
            state      <= S_RUN;
          end
        end
        S_RUN: begin
          cnt_cycles <= cnt_cycles + 64'd1;
          if (issue) begin
            cnt_busy <= cnt_busy + 64'd1;
            bk_inflight[a_bucket] <= 1'b1;
          end
          if (stall) cnt_stall <= cnt_stall + 64'd1;
          if (advance) begin
            mem_carry[pi] <= carry_out;
            idx <= idx + 1'b1;
          end
          if (s_park) begin
            q_idx[q_tail]    <= pi;
            q_bucket[q_tail] <= bucket;
            q_neg[q_tail]    <= dig_neg;
            q_tail           <= q_tail + 1'b1;
          end
          if (q_ready) q_head <= q_head + 1'b1;
          q_count <= q_count + (LOG_QDEPTH + 1)'(s_park) - (LOG_QDEPTH + 1)'(q_ready);
          if (!have_point && q_count == 0) state <= S_DRAIN;
        end
        S_DRAIN: begin
          cnt_cycles <= cnt_cycles + 64'd1;
          if (bk_inflight == '0 && !o_valid) state <= S_DONE;
        end
        S_DONE: begin
          ap_start <= 1'b0;
          ap_done  <= 1'b1;
          ap_ready <= 1'b1;
          isr      <= isr | ier;
          state    <= S_IDLE;
        end
        default: state <= S_IDLE;
      endcase
    end
  end

  // ---------------- DMA ----------------
  always_ff @(posedge clk) begin
    if (dma_wen) begin
      case (dma_waddr[25:24])
        2'd0: begin
          if (dma_waddr[0]) mem_py[dma_waddr[LOG_MAX_POINTS:1]] <= dma_wdata;
          else mem_px[dma_waddr[LOG_MAX_POINTS:1]] <= dma_wdata;
        end
        2'd1: mem_s[dma_waddr[LOG_MAX_POINTS-1:0]] <= dma_wdata;
        default: ;
      endcase
    end
  end

  // dma_raddr is a beat address (byte address / 32); bucket b, coordinate k at 4*b + k.
  logic [BW-1:0] rb;
  assign rb = dma_raddr[BW+1:2];
  always_comb begin
    dma_rdata = 256'd0;
    if (dma_raddr[25:24] == 2'd2) begin
      case (dma_raddr[1:0])
        2'd0: dma_rdata = bk_valid[rb] ? bk_x[rb] : ONE_MONT;
        2'd1: dma_rdata = bk_valid[rb] ? bk_y[rb] : ONE_MONT;
        2'd2: dma_rdata = bk_valid[rb] ? bk_zz[rb] : 256'd0;
        default: dma_rdata = bk_valid[rb] ? bk_zzz[rb] : 256'd0;
      endcase
    end
  end

  // ---------------- register reads ----------------
  always_comb begin
    case (reg_raddr)
      12'h000: reg_rdata = {28'd0, ap_ready, state == S_IDLE && !ap_start, ap_done, ap_start};
      12'h004: reg_rdata = {31'd0, gie};
      12'h008: reg_rdata = {30'd0, ier};
      12'h00C: reg_rdata = {30'd0, isr};
      12'h010: reg_rdata = arg_n;
      12'h018: reg_rdata = arg_c;
      12'h020: reg_rdata = arg_w;
      12'h040: reg_rdata = IMAGE_ID;
      12'h044: reg_rdata = {VERSION_MAJOR, VERSION_MINOR};
      12'h048: reg_rdata = CAPS;
      12'h04C: reg_rdata = 32'(MAX_POINTS);
      12'h050: reg_rdata = cnt_cycles[31:0];
      12'h054: reg_rdata = cnt_cycles[63:32];
      12'h058: reg_rdata = cnt_busy[31:0];
      12'h05C: reg_rdata = cnt_busy[63:32];
      12'h060: reg_rdata = cnt_stall[31:0];
      12'h064: reg_rdata = cnt_stall[63:32];
      default: reg_rdata = 32'd0;
    endcase
  end

  assign irq = gie && (isr != 2'b0);
endmodule
