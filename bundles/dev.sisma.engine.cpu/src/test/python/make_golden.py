#!/usr/bin/python3
"""Golden tensors from PyTorch for the CPU backend tests (run by hand: /usr/bin/python3 make_golden.py, Debian python3-torch).

Writes ../resources/dev/sisma/engine/cpu/golden.safetensors (small; committed): for each case the
inputs, the forward output and the gradients of sum(out * dy) for a fixed random dy. The
selective scan is the Mamba reference loop (`selective_scan_ref`, real A, no z), written out here
so no mamba package is needed. safetensors is written by hand: u64 little-endian header length,
a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.
"""
import json, os, struct

import torch
import torch.nn.functional as F


def selective_scan_ref(u, delta, A, B, C, D=None):
    """Mamba's selective_scan_ref for real A, in the engine's layout: u, delta [b, l, e];
    A [e, n]; B, C [b, l, n]; D [e]. Returns y [b, l, e]. A plain loop over positions."""
    b, l, e = u.shape
    n = A.shape[1]
    deltaA = torch.exp(torch.einsum('ble,en->blen', delta, A))
    deltaB_u = torch.einsum('ble,bln,ble->blen', delta, B, u)
    x = u.new_zeros((b, e, n))
    ys = []
    for i in range(l):
        x = deltaA[:, i] * x + deltaB_u[:, i]
        ys.append(torch.einsum('ben,bn->be', x, C[:, i]))
    y = torch.stack(ys, dim=1)
    if D is not None:
        y = y + u * D
    return y


def case(name, fn, inputs, out):
    """Runs fn on leaf copies of inputs; records inputs, output and input grads of sum(out * dy)."""
    leaves = {k: v.clone().requires_grad_(v.dtype == torch.float32) for k, v in inputs.items()}
    y = fn(**leaves)
    dy = torch.randn(y.shape, generator=GEN)
    (y * dy).sum().backward()
    out[name + ".out"] = y.detach()
    out[name + ".dy"] = dy
    for k, v in leaves.items():
        out[name + "." + k] = inputs[k]
        if v.grad is not None:
            out[name + ".grad." + k] = v.grad


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for k in sorted(tensors):
        t = tensors[k].detach().contiguous().float()
        data = t.numpy().astype('<f4').tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


GEN = torch.Generator().manual_seed(2024)


def r(*shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, generator=GEN) * (hi - lo) + lo


def main():
    out = {}
    case("linear", lambda x, w, b: F.linear(x, w, b), {"x": r(2, 5, 7), "w": r(6, 7), "b": r(6)}, out)
    case("matmul", lambda a, b: a @ b, {"a": r(3, 4, 5), "b": r(3, 5, 6)}, out)
    for act, fn in [("silu", F.silu), ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
                    ("softplus", F.softplus), ("sigmoid", torch.sigmoid), ("exp", torch.exp)]:
        case(act, lambda x, fn=fn: fn(x), {"x": r(4, 9, lo=-4, hi=4)}, out)
    case("softmax", lambda x: torch.softmax(x, -1), {"x": r(3, 11, lo=-3, hi=3)}, out)
    case("layer_norm", lambda x: F.layer_norm(x, (16,), eps=1e-6), {"x": r(2, 3, 16, lo=-2, hi=2)}, out)
    case("layer_norm_affine", lambda x, w, b: F.layer_norm(x, (16,), w, b, eps=1e-5),
         {"x": r(4, 16, lo=-2, hi=2), "w": r(16, lo=0.5, hi=1.5), "b": r(16)}, out)
    case("group_norm", lambda x, w, b: F.group_norm(x, 4, w, b, eps=1e-6),
         {"x": r(2, 8, 3, 3, lo=-2, hi=2), "w": r(8, lo=0.5, hi=1.5), "b": r(8)}, out)
    case("conv2d_3x3", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), {"x": r(2, 3, 6, 5), "w": r(4, 3, 3, 3), "b": r(4)}, out)
    case("conv2d_patch", lambda x, w, b: F.conv2d(x, w, b, stride=2), {"x": r(1, 4, 8, 8), "w": r(6, 4, 2, 2), "b": r(6)}, out)
    # Mamba's conv1d: channels-last [B, L, C] in the engine; PyTorch's Conv1d(groups=C, padding=K-1) on [B, C, L], cut to L
    case("dwconv1d", lambda x, w, b: F.conv1d(x.transpose(1, 2), w, b, padding=3, groups=x.shape[2])[..., :x.shape[1]].transpose(1, 2),
         {"x": r(2, 10, 6), "w": r(6, 1, 4), "b": r(6)}, out)
    case("avg_pool", lambda x: F.avg_pool2d(x, 4), {"x": r(1, 3, 8, 8)}, out)
    case("upsample_nearest", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), {"x": r(1, 2, 3, 4)}, out)
    case("mse", lambda a, b: F.mse_loss(a, b), {"a": r(3, 7), "b": r(3, 7)}, out)
    case("selective_scan", selective_scan_ref,
         {"u": r(2, 12, 20), "delta": F.softplus(r(2, 12, 20, lo=-4, hi=0)), "A": -torch.exp(r(20, 8, lo=-1, hi=1.5)),
          "B": r(2, 12, 8), "C": r(2, 12, 8), "D": r(20, lo=0.5, hi=1.5)}, out)
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "resources", "dev", "sisma", "engine", "cpu", "golden.safetensors")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_safetensors(path, out)
    print("wrote", os.path.normpath(path), len(out), "tensors,", os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
