"""The delivery tests' fixtures (live fake WeChat, runtimes pointed at it, fast retries), reused here."""

from tests.delivery.conftest import fake, fast_retries, live_rt, state  # noqa: F401
