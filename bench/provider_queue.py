"""Provider slot queue benchmark: requests queued on a provider's `max_concurrency`, in one process.

Two cases, each against a baseline measured in the same run:
- **wall**: 4x more requests than slots, each holding its slot for `--hold` seconds; baseline: the physical
  floor, requests / slots x hold. Target: within 1.1x.
- **cpu**: 100 … 5,000 requests queued at once on 8 slots, each holding its slot for one loop turn; CPU time
  per request at each size against the smallest. Target: flat (at most 2x at 5,000 of what it is at 100;
  it was quadratic: every release woke every waiter).

    .venv/bin/python -m bench.provider_queue [--hold 0.05] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from bot.config import ProviderConfig
from bot.llm.limits import MemoryStore, ProviderLimits

SIZES = (100, 500, 1000, 5000)


def limits_for(slots: int) -> ProviderLimits:
    return ProviderLimits({"p": ProviderConfig(kind="openai", base_url="http://127.0.0.1:9/v1",
                                               max_concurrency=slots)}, MemoryStore())


async def run(limits: ProviderLimits, requests: int, hold: float) -> None:
    async def call() -> None:
        async with limits.slot("p"):
            await asyncio.sleep(hold)

    await asyncio.gather(*(call() for _ in range(requests)))


async def wall_case(hold: float) -> dict[str, float]:
    slots, requests = 8, 32
    limits = limits_for(slots)
    began = time.perf_counter()
    await run(limits, requests, hold)
    wall = time.perf_counter() - began
    await limits.close()
    floor = requests / slots * hold
    return {"requests": requests, "slots": slots, "wall_s": wall, "floor_s": floor, "ratio": wall / floor}


async def cpu_case() -> dict[str, float]:
    per_request: dict[str, float] = {}
    for size in SIZES:
        limits = limits_for(8)
        began = time.process_time()
        await run(limits, size, 0)
        per_request[str(size)] = (time.process_time() - began) / size
        await limits.close()
    return {**{f"cpu_per_request_{k}_us": v * 1e6 for k, v in per_request.items()},
            "ratio": per_request[str(SIZES[-1])] / per_request[str(SIZES[0])]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hold", type=float, default=0.05)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    wall = asyncio.run(wall_case(options.hold))
    cpu = asyncio.run(cpu_case())
    met = wall["ratio"] <= 1.1 and cpu["ratio"] <= 2.0
    if options.json:
        print(json.dumps({"wall": wall, "cpu": cpu, "met": met}))
    else:
        print(f"wall: {wall['requests']} requests on {wall['slots']} slots holding {options.hold:g} s: "
              f"{wall['wall_s']:.3f} s against a floor of {wall['floor_s']:.3f} s -> {wall['ratio']:.3f}x "
              "(target 1.1x)")
        sizes = ", ".join(f"{size}: {cpu[f'cpu_per_request_{size}_us']:.0f} µs" for size in SIZES)
        print(f"cpu per queued request: {sizes} -> {cpu['ratio']:.2f}x from {SIZES[0]} to {SIZES[-1]} (target 2x)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
