"""Command line of the local tooling (`./dev <command>` runs `python -m tools.local <command>`)."""

from __future__ import annotations

import argparse
import sys


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description="OMS local cloud.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="run the local stack (foreground; Ctrl-C stops it)")
    p_up.add_argument("--detach", action="store_true",
                      help="run in the background, return when ready (./dev down stops it)")
    p_up.add_argument("--fresh", action="store_true",
                      help="with --detach: restart a running stack instead of reusing it")
    sub.add_parser("down", help="stop the stack (safe when none runs)")
    sub.add_parser("status", help="what runs, on which ports")
    sub.add_parser("test", help="fmt, clippy, cfn-lint, asl-validator, unit, stack, adapter, "
                                "pytest")
    sub.add_parser("checkov", help="checkov on the template, held to infra/checkov-baseline.yaml")
    sub.add_parser("demo", help="(re)load the demo data into the running stack")
    p_wh = sub.add_parser("warehouse", help="play the WMS: accept, pick, pack and ship an order's "
                                            "open fulfillment requests on the running stack")
    p_wh.add_argument("order_id")
    p_wh.add_argument("--tenant", default="demo", help="the order's tenant (default demo)")
    p_wh.add_argument("--hub", help="only the request at this hub")
    p_tms = sub.add_parser("carrier", help="play the TMS: a signed status callback for a shipment")
    p_tms.add_argument("shipment_id")
    p_tms.add_argument("status", choices=["ASSIGNED", "IN_TRANSIT", "DELIVERED", "CANCELLED"])
    p_tms.add_argument("--tenant",
                       help="sent as tenant_id: only this tenant's shipments (default demo; "
                            "with --key none, the key names its tenant)")
    p_tms.add_argument("--key", help="sign with this tenant key (k=<key id>) of the stack's "
                                     "signing key set, e.g. demo-local-1")
    p_sign = sub.add_parser("sign", help="print a TMS webhook sample signed now "
                                          "(for cargo lambda invoke --data-ascii)")
    p_sign.add_argument("sample", help="e.g. events/http/tms-webhook.json")
    p_sign.add_argument("--key", help="sign with this tenant key of the running stack")
    p_bench = sub.add_parser("bench", help="measure cost per order, throughput, listing and cold "
                                           "start on a fresh local stack; report in .local/bench")
    p_bench.add_argument("--orders", type=int, default=200, help="orders in the lifecycle run")
    p_bench.add_argument("--concurrency", type=int, default=8,
                         help="orders in flight at once in the lifecycle run")
    p_bench.add_argument("--levels", default="1,4,16",
                         help="concurrencies of the throughput run (comma-separated)")
    p_bench.add_argument("--only", help="phases to run, comma-separated: lifecycle, throughput, "
                                        "listing, coldstart (default all)")
    p_bench.add_argument("--rounds", type=int, default=15, help="cold starts per function")
    p_cold = sub.add_parser("bench-coldstart",
                            help="cold start of every function (release build): init time "
                                 "against a hello-world, binary size, memory after init")
    p_cold.add_argument("--rounds", type=_positive, default=15,
                        help="cold starts per function (default 15)")
    p_cold.add_argument("--no-build", action="store_true",
                        help="measure the release binaries as they are")
    p_cold.add_argument("--only", help="binaries to measure besides hello-lambda, comma-separated "
                                       "(default every function; each is a release LTO build)")
    p_sup = sub.add_parser("_supervise", help=argparse.SUPPRESS)
    p_sup.add_argument("--note", default="Started fresh.")
    args = parser.parse_args(argv)

    from . import stack

    if args.command == "up":
        return stack.up(detach=args.detach, fresh=args.fresh)
    if args.command == "down":
        return stack.down()
    if args.command == "status":
        return stack.status()
    if args.command == "demo":
        return stack.load_demo()
    if args.command in ("warehouse", "carrier", "sign"):
        from . import simulate

        if args.command == "sign":
            return simulate.sign(args.sample, args.key)
        if args.command == "warehouse":
            return simulate.warehouse(args.order_id, args.tenant, args.hub)
        tenant = args.tenant or (None if args.key else "demo")
        return simulate.carrier(args.shipment_id, args.status, tenant, args.key)
    if args.command == "checkov":
        from . import scan

        return scan.main()
    if args.command == "test":
        from . import testrun

        return testrun.run()
    if args.command == "bench":
        from tools.bench.pybench import bench

        phases = set(args.only.split(",")) if args.only else None
        levels = tuple(int(level) for level in args.levels.split(","))
        return bench.run(args.orders, args.concurrency, levels, phases, args.rounds)
    if args.command == "bench-coldstart":
        from tools.bench.pybench import coldstart

        only = set(args.only.split(",")) if args.only else None
        return coldstart.main(rounds=args.rounds, build=not args.no_build, only=only)
    if args.command == "_supervise":
        return stack.supervise("detached", args.note)
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
