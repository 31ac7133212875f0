"""A minimal safetensors reader/writer for PyTorch tensors (F32, F16, BF16).

Debian's python3-torch (1.13) has no `safetensors` package, so this writes the format by hand,
laid out the way the reference writer (safetensors 0.4, `serialize`) does:
  * 8-byte little-endian header length, then compact JSON (separators ',' and ':'),
    `__metadata__` first, tensor keys sorted by name, padded with spaces to a multiple of 8;
  * data sorted by dtype alignment (largest first), then by name, packed without gaps.
Shared by the engine's fixture script and the model's golden script (sys.path import).
"""
import json
import struct

import torch

DTYPES = {torch.float32: ("F32", 4), torch.float16: ("F16", 2), torch.bfloat16: ("BF16", 2)}
FROM_NAME = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: reinterpret the bits
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    """Writes {name: tensor} (F32/F16/BF16, little-endian host) and optional {str: str} metadata."""
    order = sorted(tensors, key=lambda k: (-DTYPES[tensors[k].dtype][1], k))
    header, blobs, off = {}, [], 0
    for name in order:
        b = tensor_bytes(tensors[name])
        header[name] = {"dtype": DTYPES[tensors[name].dtype][0], "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    full = {}
    if metadata:
        full["__metadata__"] = metadata
    full.update(sorted(header.items()))
    h = json.dumps(full, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_file(path):
    """Returns ({name: tensor}, metadata) from a safetensors file (F32/F16/BF16 only)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        buf = bytearray(data[b:end])
        dt = FROM_NAME[e["dtype"]]
        if len(buf) == 0:
            out[name] = torch.zeros(e["shape"], dtype=dt)
        elif dt == torch.bfloat16:
            out[name] = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16).reshape(e["shape"])
        else:
            out[name] = torch.frombuffer(buf, dtype=dt).reshape(e["shape"])
    return out, meta
