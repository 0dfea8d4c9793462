"""Interop: the official Tencent Cloud SDK (tencentcloud-sdk-python-ccc) against
huadan's tencent_ccc sandbox fake.

Usage: tencent_ccc_interop.py HOST:PORT SECRET_ID SECRET_KEY SDK_APP_ID START END

Prints one JSON object: the records the SDK paged through with the right credentials
(TotalCount, SessionIds) and the error codes it raised with a wrong secret key and a
wrong secret id. Driven by crates/vendors/tencent_ccc/tests/interop.rs.
"""

import json
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.ccc.v20200210 import ccc_client, models


def client(endpoint, secret_id, secret_key):
    http = HttpProfile(protocol="http", endpoint=endpoint, reqTimeout=20)
    return ccc_client.CccClient(credential.Credential(secret_id, secret_key), "ap-guangzhou",
                                ClientProfile(httpProfile=http))


def request(app, start, end, page):
    req = models.DescribeTelCdrRequest()
    req.from_json_string(json.dumps({
        "SdkAppId": app, "StartTimeStamp": start, "EndTimeStamp": end,
        "PageSize": 100, "PageNumber": page,
    }))
    return req


def error_code(c, app, start, end):
    try:
        resp = c.DescribeTelCdr(request(app, start, end, 0))
    except TencentCloudSDKException as e:
        return e.get_code()
    return "no error (TotalCount=%s)" % resp.TotalCount


def main():
    endpoint, secret_id, secret_key, app, start, end = sys.argv[1:7]
    app, start, end = int(app), int(start), int(end)
    good = client(endpoint, secret_id, secret_key)
    ids, total, page = [], None, 0
    while page < 1000:
        resp = good.DescribeTelCdr(request(app, start, end, page))
        total = resp.TotalCount
        batch = resp.TelCdrList or []
        ids.extend(r.SessionId for r in batch)
        if len(batch) < 100 or len(ids) >= total:
            break
        page += 1
    first = good.DescribeTelCdr(request(app, start, end, 0)).TelCdrList
    sample = None
    if first:
        r = first[0]
        sample = {
            "SessionId": r.SessionId, "EndStatus": r.EndStatus, "EndStatusString": r.EndStatusString,
            "Direction": r.Direction, "Time": r.Time,
            "Legs": len(r.ServeParticipants or []),
        }
    out = {
        "total": total,
        "ids": ids,
        "sample": sample,
        "wrong_secret_key": error_code(client(endpoint, secret_id, secret_key + "x"), app, start, end),
        "wrong_secret_id": error_code(client(endpoint, "AKIDnobody", secret_key), app, start, end),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
