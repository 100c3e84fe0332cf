// accelgen_dram: simulation DRAM serving one MemBusSignature master (see hw/common/bus.py).
//
// Read bursts are queued (up to QUEUE requests in flight) with the cycle they were accepted; the
// burst at the head of the queue streams one beat per cycle (while rd_resp_ready) once `latency`
// cycles have passed since its acceptance, so several requests overlap their latency and bursts
// follow each other back to back. Writes take effect on the clock edge where they are accepted
// (wr_ready is always 1). Addresses are bus-word addresses.
//
// Bulk control (for testbenches; no per-word traffic through the simulator interface):
//   load: on a clock edge where load=1, $readmemh(+ACCELGEN_DRAM_IN=<path>, mem)
//   dump: on a clock edge where dump=1, $writememh(+ACCELGEN_DRAM_OUT=<path>, mem, 0, dump_words-1)
// Hex format: one word per line, DATA_W/4 hex digits; word i holds bytes [i*B, (i+1)*B) of the
// image, little-endian (byte i*B is the least significant byte).
//
// Accesses to words >= 2**DEPTH_LOG2 read as 0 / are dropped, and set the sticky `oob` flag.
// rd_beats / wr_beats count the beats transferred since reset.
`default_nettype none
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */

module accelgen_dram #(
    parameter integer DATA_W     = 64,
    parameter integer ADDR_W     = 30,
    parameter integer DEPTH_LOG2 = 20,
    parameter integer LEN_W      = 8,
    parameter integer QUEUE      = 32
) (
    input  wire                clk,
    input  wire                rst,
    // read requests
    input  wire                rd_req_valid,
    output wire                rd_req_ready,
    input  wire [ADDR_W-1:0]   rd_req_addr,
    input  wire [LEN_W-1:0]    rd_req_len,
    // read responses
    output wire                rd_resp_valid,
    input  wire                rd_resp_ready,
    output wire [DATA_W-1:0]   rd_resp_data,
    output wire                rd_resp_last,
    // writes
    input  wire                wr_valid,
    output wire                wr_ready,
    input  wire [ADDR_W-1:0]   wr_addr,
    input  wire [DATA_W-1:0]   wr_data,
    input  wire [DATA_W/8-1:0] wr_strb,
    // control and status
    input  wire [15:0]         latency,
    input  wire                load,
    input  wire                dump,
    input  wire [31:0]         dump_words,
    output reg                 oob,
    output reg  [31:0]         rd_beats,
    output reg  [31:0]         wr_beats
);
    localparam integer DEPTH = 1 << DEPTH_LOG2;
    localparam integer QW    = (QUEUE > 1) ? $clog2(QUEUE) : 1;
    localparam integer BYTES = DATA_W / 8;

    reg [DATA_W-1:0] mem [0:DEPTH-1];

    // ---- bulk load / dump -------------------------------------------------------------------
    reg [8*1024-1:0] in_file;
    reg [8*1024-1:0] out_file;
    initial begin
        if (!$value$plusargs("ACCELGEN_DRAM_IN=%s", in_file))  in_file  = "dram_in.hex";
        if (!$value$plusargs("ACCELGEN_DRAM_OUT=%s", out_file)) out_file = "dram_out.hex";
    end

    always @(posedge clk) begin
        if (load) $readmemh(in_file, mem);
        if (dump && dump_words != 0) $writememh(out_file, mem, 0, dump_words - 1);
    end

    // ---- read request queue -------------------------------------------------------------------
    reg [ADDR_W-1:0] q_addr [0:QUEUE-1];
    reg [LEN_W-1:0]  q_len  [0:QUEUE-1];
    reg [47:0]       q_due  [0:QUEUE-1];   // first cycle at which the burst may start
    reg [QW-1:0]     q_head, q_tail;
    reg [QW:0]       q_count;
    reg [LEN_W-1:0]  beat;                 // beat index inside the head burst
    reg [47:0]       now;                  // cycles since reset

    wire [15:0] lat = (latency == 16'd0) ? 16'd1 : latency;

    assign rd_req_ready = (q_count < QUEUE);
    wire   rd_req_fire  = rd_req_valid && rd_req_ready;

    wire [ADDR_W:0]  cur_addr = {1'b0, q_addr[q_head]} + {{(ADDR_W+1-LEN_W){1'b0}}, beat};
    wire             cur_oob  = (cur_addr >= DEPTH);
    assign rd_resp_valid = (q_count != 0) && (now >= q_due[q_head]);
    assign rd_resp_last  = (beat == q_len[q_head]);
    assign rd_resp_data  = cur_oob ? {DATA_W{1'b0}} : mem[cur_addr[DEPTH_LOG2-1:0]];
    wire   rd_resp_fire  = rd_resp_valid && rd_resp_ready;

    function automatic [QW-1:0] q_next(input [QW-1:0] p);
        q_next = (p == QUEUE - 1) ? {QW{1'b0}} : p + 1'b1;
    endfunction

    always @(posedge clk) begin
        if (rst) begin
            q_head   <= 0;
            q_tail   <= 0;
            q_count  <= 0;
            beat     <= 0;
            now      <= 0;
            rd_beats <= 0;
        end else begin
            now <= now + 1'b1;
            if (rd_req_fire) begin
                q_addr[q_tail] <= rd_req_addr;
                q_len[q_tail]  <= rd_req_len;
                q_due[q_tail]  <= now + {32'd0, lat};
                q_tail         <= q_next(q_tail);
            end
            if (rd_resp_fire) begin
                rd_beats <= rd_beats + 1'b1;
                if (rd_resp_last) begin
                    beat   <= 0;
                    q_head <= q_next(q_head);
                end else begin
                    beat <= beat + 1'b1;
                end
            end
            q_count <= q_count + (rd_req_fire ? 1'b1 : 1'b0) - ((rd_resp_fire && rd_resp_last) ? 1'b1 : 1'b0);
        end
    end

    // ---- writes ---------------------------------------------------------------------------------
    assign wr_ready = 1'b1;
    wire wr_oob = ({1'b0, wr_addr} >= DEPTH);
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            wr_beats <= 0;
        end else if (wr_valid) begin
            wr_beats <= wr_beats + 1'b1;
            if (!wr_oob)
                for (i = 0; i < BYTES; i = i + 1)
                    if (wr_strb[i]) mem[wr_addr[DEPTH_LOG2-1:0]][i*8 +: 8] <= wr_data[i*8 +: 8];
        end
    end

    // ---- sticky out-of-range flag ---------------------------------------------------------------
    always @(posedge clk) begin
        if (rst) oob <= 1'b0;
        else if ((rd_resp_fire && cur_oob) || (wr_valid && wr_oob)) oob <= 1'b1;
    end
endmodule

/* verilator lint_on WIDTHTRUNC */
/* verilator lint_on WIDTHEXPAND */
`default_nettype wire
