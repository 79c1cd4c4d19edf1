"""WeChat's endpoints, one module per area; `ALL` is the route table the server mounts."""

from __future__ import annotations

from ..protocol import Endpoint
from . import assets, messages, oauth, robot, tokens, wecom

ALL: tuple[Endpoint, ...] = (
    *tokens.ENDPOINTS,
    *messages.ENDPOINTS,
    *assets.ENDPOINTS,
    *oauth.ENDPOINTS,
    *wecom.ENDPOINTS,
    *robot.ENDPOINTS,
)
