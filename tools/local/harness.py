"""The harness process: moto (patched), provisioning, pollers and the HTTP gateway, in one process.

Started by the supervisor once DynamoDB Local answers. It serves moto on the AWS port, creates
the template's resources, starts the event source pollers, and opens the gateway last, so that
`GET /_local/health` on the gateway answering means the harness is ready. SIGTERM/SIGINT stop it.
Run: python -m tools.local.harness
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from . import config, motopatch, pollers, provision
from .gateway import Gateway, GatewayServer
from .template import LocalStack

log = logging.getLogger("harness")


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = config.load()
    stack = LocalStack.from_template(settings)
    for warning in stack.warnings:
        log.warning("template: %s", warning)

    # moto's Step Functions executor calls Lambda through boto3 at localhost:$MOTO_PORT.
    os.environ["MOTO_PORT"] = str(settings.aws_port)
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    bridge = motopatch.Bridge(settings.watch_url, stack.binaries_by_function_name(),
                              settings.region, stack=stack, sqs=provision.client("sqs", settings),
                              retry_delay=settings.async_retry_delay)
    motopatch.install(bridge)
    moto = ThreadedMotoServer(ip_address=config.HOST, port=settings.aws_port, verbose=False)
    moto.start()
    log.info("moto serving on %s", settings.aws_endpoint)
    log.info("moto config: %s", motopatch.configure_moto(settings.aws_endpoint))

    provision.provision(stack, settings)

    stop = threading.Event()
    running = pollers.start_all(stack, settings, stop)
    gateway = GatewayServer(Gateway(stack.routes, settings.jwt_secret, settings.watch_url),
                            config.HOST, settings.api_port)
    gateway.start()
    log.info("gateway serving %d route(s) on %s", len(stack.routes), settings.gateway_url)
    log.info("harness ready")

    def shutdown(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    stop.wait()
    gateway.stop()
    for poller in running:
        poller.join(timeout=5)
    moto.stop()
    log.info("harness stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
