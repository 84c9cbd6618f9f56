// sim_shim.cpp -- C ABI over the Verilator model of kernels/rtl/zkaccel_msm_bn254.sv, so the
// zkaccel-fpga crate drives the RTL in-process through the same register and DMA protocol
// a card exposes. Every function is called with a handle from zk_sim_new and never
// concurrently on one handle (the Rust side holds a lock).
//
// Clocking: reg_write, dma_write and step advance the model by whole clock cycles (one
// register write or one 32-byte DMA beat per cycle). reg_read and dma_read sample the
// combinational read ports without a clock edge, except a read of CTRL (0x00), which takes
// one cycle with the read strobe high so that the clear-on-read bits behave as on a card.
#include <cstdint>
#include <cstring>
#include "Vzk_engine.h"
#include "verilated.h"

namespace {
struct Sim {
    VerilatedContext ctx;
    Vzk_engine* top;
    uint64_t cycles = 0;
    Sim() : top(nullptr) { top = new Vzk_engine(&ctx); }
    ~Sim() {
        top->final();
        delete top;
    }
    void tick() {
        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
        cycles++;
        top->reg_wen = 0;
        top->reg_ren = 0;
        top->dma_wen = 0;
    }
};

void put_beat(VlWide<8>& w, const uint8_t* src) {
    for (int k = 0; k < 8; k++) {
        uint32_t v;
        std::memcpy(&v, src + 4 * k, 4);  // little-endian host (checked by the Rust side)
        w[k] = v;
    }
}

void get_beat(const VlWide<8>& w, uint8_t* dst) {
    for (int k = 0; k < 8; k++) {
        uint32_t v = w[k];
        std::memcpy(dst + 4 * k, &v, 4);
    }
}
}  // namespace

extern "C" {

void* zk_sim_new() {
    Sim* s = new Sim();
    s->top->clk = 0;
    s->top->rst_n = 0;
    s->top->reg_wen = 0;
    s->top->reg_ren = 0;
    s->top->dma_wen = 0;
    s->top->eval();
    return s;
}

void zk_sim_free(void* h) { delete static_cast<Sim*>(h); }

void zk_sim_reset(void* h) {
    Sim* s = static_cast<Sim*>(h);
    s->top->rst_n = 0;
    for (int i = 0; i < 4; i++) s->tick();
    s->top->rst_n = 1;
    s->tick();
}

void zk_sim_step(void* h, uint64_t n) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t i = 0; i < n; i++) s->tick();
}

uint64_t zk_sim_cycles(void* h) { return static_cast<Sim*>(h)->cycles; }

void zk_sim_reg_write(void* h, uint32_t addr, uint32_t value) {
    Sim* s = static_cast<Sim*>(h);
    s->top->reg_wen = 1;
    s->top->reg_waddr = addr & 0xFFF;
    s->top->reg_wdata = value;
    s->tick();
}

uint32_t zk_sim_reg_read(void* h, uint32_t addr) {
    Sim* s = static_cast<Sim*>(h);
    s->top->reg_raddr = addr & 0xFFF;
    s->top->eval();
    uint32_t v = s->top->reg_rdata;
    if ((addr & 0xFFF) == 0) {
        s->top->reg_ren = 1;
        s->tick();
    }
    return v;
}

// len is a multiple of 32 and byte_addr is 32-byte aligned (checked by the caller).
void zk_sim_dma_write(void* h, uint64_t byte_addr, const uint8_t* src, uint64_t len) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t off = 0; off < len; off += 32) {
        s->top->dma_wen = 1;
        s->top->dma_waddr = static_cast<uint32_t>((byte_addr + off) >> 5);
        put_beat(s->top->dma_wdata, src + off);
        s->tick();
    }
}

void zk_sim_dma_read(void* h, uint64_t byte_addr, uint8_t* dst, uint64_t len) {
    Sim* s = static_cast<Sim*>(h);
    for (uint64_t off = 0; off < len; off += 32) {
        s->top->dma_raddr = static_cast<uint32_t>((byte_addr + off) >> 5);
        s->top->eval();
        get_beat(s->top->dma_rdata, dst + off);
    }
}

// Clocks the model until ap_done (CTRL bit 1) is set, sampling CTRL through the read port
// without the read strobe (so nothing is cleared). Returns 1 when done, 0 after max_cycles.
int zk_sim_wait_done(void* h, uint64_t max_cycles) {
    Sim* s = static_cast<Sim*>(h);
    s->top->reg_raddr = 0;
    for (uint64_t i = 0; i < max_cycles; i++) {
        s->top->eval();
        if (s->top->reg_rdata & 2u) return 1;
        s->tick();
    }
    return 0;
}

uint32_t zk_sim_irq(void* h) { return static_cast<Sim*>(h)->top->irq; }

}  // extern "C"
