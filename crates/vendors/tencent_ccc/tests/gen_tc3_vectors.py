"""Regenerate tests/fixtures/tc3_vectors.json with the official Tencent Cloud SDK.

Each vector records the inputs of one TC3-HMAC-SHA256 signature (credentials, host,
timestamp, body, headers the SDK sent) and the Authorization header the SDK computed,
so that huadan's Rust signer is checked against the vendor's own code, not against
itself. Run from the repository root:

    .venv/bin/python crates/vendors/tencent_ccc/tests/gen_tc3_vectors.py

The SDK reads the clock through `time.time()`; we pin it per vector.
"""

import json
import os
import time

from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ccc.v20200210 import ccc_client

CASES = [
    # (label, secret_id, secret_key, endpoint host, unix timestamp, region, params)
    (
        "beijing_early_morning_utc_date_differs",
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "ccc.tencentcloudapi.com",
        1718472600,  # 2024-06-15T17:30:00Z = 2024-06-16 01:30 Beijing
        "ap-guangzhou",
        {"SdkAppId": 1400000000, "StartTimeStamp": 1718467200, "EndTimeStamp": 1718472600,
         "PageSize": 100, "PageNumber": 0},
    ),
    (
        "beijing_afternoon_same_date",
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        "ccc.tencentcloudapi.com",
        1718436600,  # 2024-06-15T07:30:00Z = 2024-06-15 15:30 Beijing
        "ap-guangzhou",
        {"SdkAppId": 1400000000, "StartTimeStamp": 1718380800, "EndTimeStamp": 1718436600,
         "PageSize": 100, "PageNumber": 3},
    ),
    (
        "sandbox_host_with_port_no_region",
        "AKIDhuadanSandbox0001",
        "huadan-sandbox-secret-key",
        "127.0.0.1:9101",
        1551113065,  # Tencent's own signing-guide instant
        "",
        {"SdkAppId": 1400000001, "StartTimeStamp": 1551026665, "EndTimeStamp": 1551113065,
         "PageSize": 10, "PageNumber": 0, "Phones": ["008613012345678"],
         "SessionIds": ["7cb26a84-83b2-42d8-a19b-7dae78e9b78e"]},
    ),
]


def sign_one(label, secret_id, secret_key, host, ts, region, params):
    time.time = lambda: ts  # pin the SDK's clock
    cred = credential.Credential(secret_id, secret_key)
    hp = HttpProfile(endpoint=host)
    client = ccc_client.CccClient(cred, region, ClientProfile(httpProfile=hp))
    req = RequestInternal(host, "POST", "/", header={})
    client._build_req_inter("DescribeTelCdr", params, req)
    return {
        "label": label,
        "secret_id": secret_id,
        "secret_key": secret_key,
        "host": req.header["Host"],
        "content_type": req.header["Content-Type"],
        "timestamp": ts,
        "region": region,
        "action": req.header["X-TC-Action"],
        "version": req.header["X-TC-Version"],
        "body": req.data,
        "authorization": req.header["Authorization"],
    }


def main():
    out = [sign_one(*c) for c in CASES]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "tc3_vectors.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(path)


if __name__ == "__main__":
    main()
