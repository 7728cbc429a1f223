"""Minimal safetensors writer shared by the fixture scripts (the safetensors package is not installed here)."""
import json, os, struct

import torch


def write(path, tensors, metadata=None):
    """Writes float32 tensors, sorted by name, atomically (temp file + rename)."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs, off = [], 0
    for k in sorted(tensors):
        b = tensors[k].detach().to(torch.float32).contiguous().numpy().tobytes()
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
