"""Plumb's own cloud credentials (an AWS key that signs Bedrock calls, a Vertex service account's
tokens) are lent only to callers Plumb knows: one with a Plumb key, or on this machine's loopback.
A client from another address without a Plumb key is refused before anything is signed."""
import json

import pytest

from conftest import HTTPReader, attack_connect, build_request, start_attack, stop
from test_attack_routing import ADMIN_TOKEN, non_loopback_address
from test_bedrock_sdk import PLUMB_ENV, bedrock_config
from test_vertex_sdk import GEMINI, PATH as VERTEX_PATH, service_account, vertex_config  # noqa: F401 (a fixture)

BODY = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode()


def post_from(p, addr, path):
    s = attack_connect(p, timeout=10, source=addr, host=addr)
    try:
        s.sendall(build_request("POST", path, f"{addr}:{p.port}", {"Connection": "close", "Content-Type": "application/json"}, BODY))
        return HTTPReader(s).response(timeout=10)
    finally:
        s.close()


def test_aws_key_is_not_lent_to_a_remote_client_without_a_plumb_key(tmp_path, mock):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    p = start_attack(tmp_path, mock, bedrock_config(mock), listen="0.0.0.0:0", admin_token=ADMIN_TOKEN, env=PLUMB_ENV)
    try:
        try:
            r = post_from(p, addr, "/bedrock/model/amazon.nova-pro-v1%3A0/converse")
        except OSError as e:
            pytest.skip(f"cannot connect from {addr}: {e}")
        assert r.status == 401 and r.error_code() == "unauthorized", r
        local = post_from(p, "127.0.0.1", "/bedrock/model/amazon.nova-pro-v1%3A0/converse")
        assert local.status == 200, local
    finally:
        stop(p.proc)


def test_service_account_token_is_not_lent_to_a_remote_client_without_a_plumb_key(tmp_path, service_account):
    addr = non_loopback_address()
    if addr is None:
        pytest.skip("this machine has no non-loopback IPv4 address to connect from")
    mock_url, key_file, _ = service_account
    config = vertex_config(mock_url, f'service_account_file = "{key_file("sa.json")}"\n')
    p = start_attack(tmp_path, mock_url, config, listen="0.0.0.0:0", admin_token=ADMIN_TOKEN)
    path = f"/vertex{VERTEX_PATH}/google/models/{GEMINI}:generateContent"
    try:
        try:
            r = post_from(p, addr, path)
        except OSError as e:
            pytest.skip(f"cannot connect from {addr}: {e}")
        assert r.status == 401 and r.error_code() == "unauthorized", r
        assert post_from(p, "127.0.0.1", path).status == 200
    finally:
        stop(p.proc)
