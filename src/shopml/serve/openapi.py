"""The OpenAPI 3.1 description of both APIs (OIP v2 and ``/v1``), served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from shopml import __version__

__all__ = ["openapi_spec"]


_STR = {"type": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    str(code): _json(_ref("Error"), text)
    for code, text in (
        (400, "Malformed body"),
        (404, "Unknown model or version"),
        (405, "Wrong method"),
        (413, "Body too large"),
        (422, "Input does not match the model's schema"),
        (503, "Model not ready"),
    )
}
_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
_VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}
_RID = {
    "name": "x-request-id",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 128},
}


def _get(summary: str, schema: dict[str, Any], params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {"200": _json(schema, "OK"), **_ERRORS},
        }
    }


_HEADER_LENGTH = {
    "name": "Inference-Header-Content-Length",
    "in": "header",
    "required": False,
    "description": "binary tensor data extension: the length of the JSON header; raw tensors follow it",
    "schema": {"type": "integer", "minimum": 0},
}


def _post(
    summary: str, body: str, answer: str, params: list[dict[str, Any]], binary: bool = False
) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": _ref(body)}}
    extra = []
    if binary:  # the JSON header and the raw tensors after it
        content["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
        extra = [_HEADER_LENGTH]
    ok = _json(_ref(answer), "Scores")
    if binary:  # binary outputs asked for: the JSON header and the raw outputs
        ok["content"]["application/octet-stream"] = {"schema": {"type": "string", "format": "binary"}}
    return {
        "post": {
            "summary": summary,
            "parameters": [*params, _RID, *extra],
            "requestBody": {"required": True, "content": content},
            "responses": {"200": ok, **_ERRORS},
        }
    }


_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "kind": {"type": "string"}},
    },
    "Tensor": {
        "type": "object",
        "required": ["name", "shape", "datatype", "data"],
        "properties": {
            "name": {"type": "string"},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "datatype": {
                "type": "string",
                "enum": [
                    "BOOL",
                    "INT8",
                    "INT16",
                    "INT32",
                    "INT64",
                    "UINT8",
                    "UINT16",
                    "UINT32",
                    "UINT64",
                    "FP16",
                    "FP32",
                    "FP64",
                    "BYTES",
                ],
            },
            "data": {"type": "array"},
        },
    },
    "InferenceRequest": {
        "type": "object",
        "required": ["inputs"],
        "properties": {
            "id": {"type": "string"},
            "parameters": {"type": "object"},
            "inputs": {"type": "array", "items": _ref("Tensor")},
            "outputs": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
    },
    "InferenceResponse": {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {"type": "array", "items": _ref("Tensor")},
        },
    },
    "PredictRequest": {
        "type": "object",
        "required": ["instances"],
        "properties": {
            "instances": {
                "type": "array",
                "items": {"type": "object"},
                "description": 'feature rows; ranking models: {"session": [item id, ...]}; image models:'
                ' {"image": {"b64": base64 PNG or JPEG}, "image_id": "..."}; text models: {"text": "..."}',
            },
            "parameters": {
                "type": "object",
                "description": "ranking models only",
                "properties": {
                    "k": {"type": "integer", "minimum": 1, "description": "items to return (<= serve.max_k)"},
                    "exclude_seen": {"type": "boolean", "description": "drop items already in the session"},
                },
            },
        },
    },
    "PredictResponse": {
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "model_version": {"type": "integer"},
            "threshold": {"type": "number"},
            "predictions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "request_id": {"type": "string"},
                        "score": {"type": "number"},
                        "decision": {"type": "integer", "enum": [0, 1]},
                        "model_version": {"type": "integer"},
                        "items": {"type": "array", "items": {"type": "string"}, "description": "ranking"},
                        "scores": {"type": "array", "items": {"type": ["number", "null"]}},
                        "unknown_items": {"type": "array", "items": {"type": "string"}},
                        "source": {"type": "string", "enum": ["model", "popular"]},
                        "label": {"type": "string", "description": "multiclass and image models"},
                        "probabilities": {
                            "type": "object",
                            "additionalProperties": {"type": "number"},
                            "description": "multiclass: class → probability; text models: the three most"
                            " probable classes, best first",
                        },
                        "top": {
                            "type": "array",
                            "description": "image models: the top categories, best first",
                            "items": {
                                "type": "object",
                                "properties": {"category": _STR, "probability": {"type": "number"}},
                            },
                        },
                        "auto_assign": {"type": "boolean", "description": "image models: no review needed"},
                    },
                },
            },
        },
    },
}


def openapi_spec() -> dict[str, Any]:
    """The spec as a JSON-ready mapping."""
    obj = {"type": "object"}
    admin = {
        "post": {
            "summary": "Load the registry's champion of a model / unload it (bearer token; off without one)",
            "security": [{"bearer": []}],
            "parameters": [_NAME],
            "responses": {
                "200": _json(obj, "Done"),
                "401": _json(_ref("Error"), "Bad token"),
                "403": _json(_ref("Error"), "Admin endpoints off"),
                **_ERRORS,
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "shopml serve",
            "version": __version__,
            "description": "Open Inference Protocol v2 REST API plus the /v1 convenience API.",
        },
        "paths": {
            "/v2/health/live": _get("Liveness", obj),
            "/v2/health/ready": _get("Readiness", obj),
            "/v2": _get("Server metadata", obj),
            "/v2/models/{name}": _get("Model metadata", obj, [_NAME]),
            "/v2/models/{name}/ready": _get("Model readiness", obj, [_NAME]),
            "/v2/models/{name}/versions/{version}": _get("Model version metadata", obj, [_NAME, _VERSION]),
            "/v2/models/{name}/infer": _post(
                "OIP v2 inference", "InferenceRequest", "InferenceResponse", [_NAME], binary=True
            ),
            "/v2/models/{name}/versions/{version}/infer": _post(
                "OIP v2 inference on a version",
                "InferenceRequest",
                "InferenceResponse",
                [_NAME, _VERSION],
                binary=True,
            ),
            "/v1/models/{name}/predict": _post(
                "Score instances", "PredictRequest", "PredictResponse", [_NAME]
            ),
            "/v2/repository/models/{name}/load": admin,
            "/v2/repository/models/{name}/unload": admin,
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "responses": {"200": {"description": "Prometheus text format"}},
                }
            },
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
