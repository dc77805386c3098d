"""Checks for chapter 10b's exercises: an MLP's parameter count, the imports a pickle makes, a safetensors header."""

from __future__ import annotations

import json
import pickle
import pickletools
import struct
from collections.abc import Callable

from . import expect, passed


def pickle_globals(data: bytes) -> set[str]:
    """The "module.name" objects unpickling `data` would import (GLOBAL, and STACK_GLOBAL from protocol 4).

    STACK_GLOBAL takes the last two strings pushed, which a pickle may fetch back from its memo.
    """
    found, pushed, memo = set(), [], {}
    for opcode, arg, _ in pickletools.genops(data):
        if opcode.name == "GLOBAL":
            found.add(arg.replace(" ", ".", 1))
        elif opcode.name == "STACK_GLOBAL":
            found.add(f"{pushed[-2]}.{pushed[-1]}")
        elif opcode.name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif opcode.name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif opcode.name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
        elif isinstance(arg, str):
            pushed.append(arg)
    return found


def safetensors_header(data: bytes) -> dict[str, tuple[str, list[int]]]:
    """{tensor name: (dtype, shape)} from a safetensors file's bytes: 8 bytes of header length, then JSON."""
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    return {name: (spec["dtype"], spec["shape"]) for name, spec in header.items() if name != "__metadata__"}


def check_mlp_parameters(count: Callable) -> str:
    """`count(n_in, hidden, n_out)` = the parameters of Linear(n_in, hidden), ReLU, Linear(hidden, n_out)."""
    import torch

    for n_in, hidden, n_out in [(64, 64, 10), (4, 1, 2), (784, 256, 10), (10, 3, 1)]:
        reference = torch.nn.Sequential(torch.nn.Linear(n_in, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, n_out))
        want = sum(p.numel() for p in reference.parameters())
        got = count(n_in, hidden, n_out)
        expect(got == want, f"({n_in}, {hidden}, {n_out}): each Linear(a, b) holds an a×b weight matrix and b biases; "
                            "ReLU has no parameters")
    return passed("MLP parameters")


class _Shout:
    def __reduce__(self):
        return (print, ("unpickled",))


def check_pickle_globals(find_globals: Callable) -> str:
    """`find_globals(data)` = the set of "module.name" a pickle imports, for every protocol."""
    cases = [pickle.dumps([1, 2.0, "text"], protocol=p) for p in (2, 4)]
    cases += [pickle.dumps({"call": _Shout()}, protocol=p) for p in (0, 2, 4, 5)]
    from collections import Counter, OrderedDict

    several = [OrderedDict(a=1), Counter("ab"), complex(1, 2), OrderedDict(b=2)]  # two globals of one module
    cases += [pickle.dumps(several, protocol=p) for p in (2, 5)]
    for data in cases:
        want = pickle_globals(data)
        got = find_globals(data)
        expect(got is not None and set(got) == want,
               "walk pickletools.genops(data): GLOBAL carries 'module name' in its argument (protocols 0-3); "
               "from protocol 4 on STACK_GLOBAL takes the module and the name from the last two strings pushed")
    return passed("pickle globals")


def check_safetensors_header(read_header: Callable) -> str:
    """`read_header(data)` = {name: (dtype, shape)} of a safetensors file, parsed by hand."""
    import torch
    from safetensors.torch import save

    tensors = {"embed.weight": torch.zeros(7, 3), "bias": torch.ones(5, dtype=torch.float16),
               "step": torch.tensor(3, dtype=torch.int64)}
    for metadata in (None, {"format": "pt"}):
        data = save(tensors, metadata=metadata)
        want = safetensors_header(data)
        got = read_header(data)
        expect(isinstance(got, dict) and set(got) == set(want),
               "the first 8 bytes are the header's length (little-endian unsigned 64-bit: struct '<Q'); the JSON "
               "that follows has one entry per tensor, and a '__metadata__' entry to skip")
        expect(all((got[name][0], list(got[name][1])) == spec for name, spec in want.items()),
               "each tensor's entry gives its 'dtype' (e.g. 'F32') and 'shape' (a list, [] for a scalar)")
    return passed("safetensors header")
