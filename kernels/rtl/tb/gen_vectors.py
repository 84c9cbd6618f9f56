#!/usr/bin/env python3
"""Known-answer vectors for the RTL testbenches, computed with plain Python integers.

Independent of the RTL: Montgomery products are a*b*2^-256 mod p by definition, and every
XYZZ addition result computed here with madd-2008-s / mdbl-2008-s-1 (EFD) is checked against
textbook affine addition (with modular inverses) before it is written out.

Output (hex, one 256-bit word per line, for $readmemh):
  mont_mul.hex : a, b, a*b/R mod p                    (per vector, 3 lines)
  xyzz_madd.hex: binf, X1, Y1, ZZ1, ZZZ1, x2, y2,     (inputs, Montgomery form)
                 inf, X3, Y3, ZZ3, ZZZ3               (expected, Montgomery form)
                                                      (per vector, 12 lines)
Usage: gen_vectors.py OUTDIR  (deterministic: fixed seed)
"""
import random
import sys

P = 0x30644E72E131A029B85045B68181585D97816A916871CA8D3C208C16D87CFD47
R = 1 << 256
RINV = pow(R, -1, P)
G = (1, 2)  # BN254 G1 generator, y^2 = x^3 + 3


def mont(a):
    return a * R % P


def on_curve(pt):
    x, y = pt
    return (y * y - x * x * x - 3) % P == 0


def aff_add(a, b):
    """Textbook affine addition; None is infinity."""
    if a is None:
        return b
    if b is None:
        return a
    (x1, y1), (x2, y2) = a, b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = 3 * x1 * x1 * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return (x3, (lam * (x1 - x3) - y1) % P)


def aff_mul(k, pt):
    acc = None
    while k:
        if k & 1:
            acc = aff_add(acc, pt)
        pt = aff_add(pt, pt)
        k >>= 1
    return acc


def madd(b, binf, q):
    """XYZZ bucket b (plain integers) += affine q, as the RTL computes it."""
    x2, y2 = q
    if binf:
        return (False, x2, y2, 1, 1)
    x1, y1, zz1, zzz1 = b
    u2 = x2 * zz1 % P
    s2 = y2 * zzz1 % P
    p = (u2 - x1) % P
    r = (s2 - y1) % P
    if p == 0 and r != 0:
        return (True, 1, 1, 0, 0)
    if p == 0:  # mdbl-2008-s-1
        u = 2 * y2 % P
        v = u * u % P
        w = u * v % P
        s = x2 * v % P
        m = 3 * x2 * x2 % P
        x3 = (m * m - 2 * s) % P
        y3 = (m * (s - x3) - w * y2) % P
        return (False, x3, y3, v, w)
    pp = p * p % P
    ppp = p * pp % P
    qq = x1 * pp % P
    x3 = (r * r - ppp - 2 * qq) % P
    y3 = (r * (qq - x3) - y1 * ppp) % P
    return (False, x3, y3, zz1 * pp % P, zzz1 * ppp % P)


def to_affine(inf, x, y, zz, zzz):
    if inf:
        return None
    assert pow(zz, 3, P) == pow(zzz, 2, P)
    return (x * pow(zz, -1, P) % P, y * pow(zzz, -1, P) % P)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    rng = random.Random(20261121)
    with open(f"{out}/mont_mul.hex", "w") as f:
        edge = [0, 1, 2, P - 1, P - 2, mont(1), R % P, (1 << 253) - 1]
        pairs = [(a, b) for a in edge for b in edge]
        pairs += [(rng.randrange(P), rng.randrange(P)) for _ in range(200)]
        for a, b in pairs:
            for v in (a, b, a * b * RINV % P):
                f.write(f"{v:064x}\n")
    vecs = []
    for i in range(60):
        p1 = aff_mul(rng.randrange(1, P), G)
        kind = i % 6
        if kind == 0:
            q = p1  # doubling
        elif kind == 1:
            q = (p1[0], (-p1[1]) % P)  # opposite: infinity
        else:
            q = aff_mul(rng.randrange(1, P), G)
        z = rng.randrange(1, P) if kind != 5 else 1
        binf = kind == 4
        b = (p1[0] * z * z % P, p1[1] * z * z * z % P, z * z % P, z * z * z % P)
        res = madd(b, binf, q)
        want = q if binf else aff_add(p1, q)
        assert to_affine(*res) == want, "formula disagrees with affine addition"
        assert want is None or on_curve(want)
        vecs.append((binf, b, q, res))
    with open(f"{out}/xyzz_madd.hex", "w") as f:
        for binf, b, q, (inf, x3, y3, zz3, zzz3) in vecs:
            words = [int(binf)] + [mont(v) for v in b] + [mont(v) for v in q]
            words += [int(inf), mont(x3), mont(y3), mont(zz3), mont(zzz3)]
            for w in words:
                f.write(f"{w:064x}\n")
    print(f"{len(pairs)} multiplier vectors, {len(vecs)} adder vectors written to {out}")


if __name__ == "__main__":
    main()
