// tb_main.cpp -- clock driver for the self-checking SystemVerilog testbenches (each is built
// with --prefix Vtb). Runs until the testbench calls $finish ($stop aborts with an error).
#include <cstdio>
#include <memory>
#include "Vtb.h"
#include "verilated.h"

int main(int argc, char** argv) {
    auto ctx = std::make_unique<VerilatedContext>();
    ctx->commandArgs(argc, argv);
    auto top = std::make_unique<Vtb>(ctx.get());
    const long limit = 1000000;
    long n = 0;
    top->clk = 0;
    top->eval();
    while (!ctx->gotFinish() && n < limit) {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
        n++;
    }
    top->final();
    if (!ctx->gotFinish()) {
        std::fprintf(stderr, "FAIL: testbench did not finish in %ld cycles\n", limit);
        return 1;
    }
    return 0;
}
