// Simulation models of the xpulpnn testbench (tb/xpulpnn/simtop.py instantiates them).
//
// xpulpnn_ram: the core's RAM with the same timing as hw/xpulpnn/tcm.py (synchronous read ports with enable,
// byte-strobed write, read-before-write), plus bulk control so that Python never touches memory per word:
//   clear: on an edge where clear=1 every word becomes 0
//   load:  on an edge where load=1, $readmemh(+ACCELGEN_DRAM_IN=<path>) from word 0 (= byte address 0x80000000)
//   dump:  on an edge where dump=1, $writememh(+ACCELGEN_DRAM_OUT=<path>) of words 0 .. dump_words-1
// xpulpnn_tracer: writes one commit-log line per retired instruction (format of sw/xpulpnn/trace.py) to
// +XPULPNN_TRACE=<path>; `mark` writes a "# program" separator line, `flush` flushes the file.
`default_nettype none
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */

module xpulpnn_ram #(
    parameter integer WORDS_LOG2 = 16
) (
    input  wire                  clk,
    input  wire [WORDS_LOG2-1:0] i_addr,
    input  wire                  i_en,
    output reg  [31:0]           i_rdata,
    input  wire [WORDS_LOG2-1:0] d_addr,
    input  wire                  d_en,
    input  wire [3:0]            d_we,
    input  wire [31:0]           d_wdata,
    output reg  [31:0]           d_rdata,
    input  wire                  clear,
    input  wire                  load,
    input  wire                  dump,
    input  wire [31:0]           dump_words
);
    localparam integer WORDS = 1 << WORDS_LOG2;
    reg [31:0] mem [0:WORDS-1];
    reg [8*1024-1:0] in_file;
    reg [8*1024-1:0] out_file;
    integer k;
    initial begin
        if (!$value$plusargs("ACCELGEN_DRAM_IN=%s", in_file))  in_file  = "dram_in.hex";
        if (!$value$plusargs("ACCELGEN_DRAM_OUT=%s", out_file)) out_file = "dram_out.hex";
        for (k = 0; k < WORDS; k = k + 1) mem[k] = 32'h0;
    end

    always @(posedge clk) begin
        if (i_en) i_rdata <= mem[i_addr];
        if (d_en) d_rdata <= mem[d_addr];
        if (d_we[0]) mem[d_addr][7:0]   = d_wdata[7:0];
        if (d_we[1]) mem[d_addr][15:8]  = d_wdata[15:8];
        if (d_we[2]) mem[d_addr][23:16] = d_wdata[23:16];
        if (d_we[3]) mem[d_addr][31:24] = d_wdata[31:24];
        if (clear) for (k = 0; k < WORDS; k = k + 1) mem[k] = 32'h0;
        if (load) $readmemh(in_file, mem);
        if (dump && dump_words != 0) $writememh(out_file, mem, 0, dump_words - 1);
    end
endmodule

module xpulpnn_tracer (
    input wire        clk,
    input wire        en,
    input wire        mark,
    input wire        flush,
    input wire        valid,
    input wire [31:0] pc,
    input wire [31:0] insn,
    input wire        rd_we,
    input wire [4:0]  rd,
    input wire [31:0] rd_value,
    input wire        pi_we,
    input wire [4:0]  pi_reg,
    input wire [31:0] pi_value,
    input wire        nn_we,
    input wire [2:0]  nn_idx,
    input wire [31:0] nn_value,
    input wire        st,
    input wire [31:0] st_addr,
    input wire [2:0]  st_size,
    input wire [31:0] st_data
);
    reg [8*1024-1:0] path;
    integer fd;
    initial begin
        if (!$value$plusargs("XPULPNN_TRACE=%s", path)) path = "trace.log";
        fd = $fopen(path, "w");
    end

    always @(posedge clk) begin
        if (mark) $fwrite(fd, "# program\n");
        if (en && valid) begin
            $fwrite(fd, "%08x %08x", pc, insn);
            if (pi_we) $fwrite(fd, " x%0d=%08x", pi_reg, pi_value);
            if (rd_we) $fwrite(fd, " x%0d=%08x", rd, rd_value);
            if (nn_we) $fwrite(fd, " nn%0d=%08x", nn_idx, nn_value);
            if (st) $fwrite(fd, " m%08x.%0d=%08x", st_addr, st_size, st_data);
            $fwrite(fd, "\n");
        end
        if (flush) $fflush(fd);
    end
endmodule
