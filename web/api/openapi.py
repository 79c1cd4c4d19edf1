"""The OpenAPI 3.1 document, built from the registry the routes were registered from."""

from __future__ import annotations

from typing import Any

from web.api.items import ERROR
from web.api.registry import Operation, Registry

_ERRORS = {
    400: ("BadRequest", "参数有误"),
    401: ("Unauthorized", "缺少令牌，或令牌无效、已吊销"),
    403: ("Forbidden", "角色无权访问，或资源不对该辖区开放"),
    404: ("NotFound", "资源不存在，或不在调用者辖区内"),
    429: ("TooManyRequests", "该令牌的请求次数已达上限，请按 Retry-After 等待后再试"),
}
_HEADERS = {
    429: {
        "Retry-After": {
            "description": "再次请求前应等待的秒数",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
}
DESCRIPTION = (
    "兰西县疫情防控外联系统的数据接口。以 `lanxi tokens create --username U` 生成的令牌调用："
    "`Authorization: Bearer <token>`。角色与辖区范围与管理后台相同：派出所账号只能看到本所的记录，"
    "他所的记录一律答 404。列表均分页（`page`、`per_page`），返回 "
    '`{"items": [...], "total": N, "page": P, "per_page": K}`；出错时返回 '
    '`{"error": {"code": ..., "message": ...}}` 及对应的 HTTP 状态码。'
    "每个令牌的请求次数有上限（配置项 `[web] api_rate_limit`，默认每分钟 120 次），"
    "超出时返回 429 及 `Retry-After`（秒）。"
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _page_of(name: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": _ref(name)},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
        },
        "required": ["items", "total", "page", "per_page"],
        "additionalProperties": False,
    }


def _operation(op: Operation) -> dict[str, Any]:
    body = _page_of(op.item.name) if op.many else _ref(op.item.name)
    responses: dict[str, Any] = {
        "200": {"description": op.item.description, "content": {"application/json": {"schema": body}}}
    }
    for status in op.statuses:
        if status in _ERRORS:
            responses[str(status)] = {"$ref": f"#/components/responses/{_ERRORS[status][0]}"}
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag] if op.tag else [],
        "parameters": [param.openapi() for param in op.params],
        "responses": responses,
    }
    if op.permission is None:
        out["security"] = []
    else:
        out["description"] = f"所需权限：`{op.permission.value}`" + ("；仅县局账号" if op.county_only else "")
    return out


def _error_response(status: int) -> dict[str, Any]:
    response = {"description": _ERRORS[status][1], "content": {"application/json": {"schema": _ref("Error")}}}
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def document(registry: Registry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for op in registry.operations:
        paths.setdefault(op.path, {})["get"] = _operation(op)
    schemas = {op.item.name: op.item.schema for op in registry.operations}
    schemas["Error"] = ERROR
    return {
        "openapi": "3.1.0",
        "info": {"title": "兰西外联 API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {name: _error_response(status) for status, (name, _) in _ERRORS.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
