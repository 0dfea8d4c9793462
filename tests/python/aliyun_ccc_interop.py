"""Interop: the official Alibaba Cloud SDK (alibabacloud-ccc20200701, ACS3 signing by
default) as a real client of huadan's aliyun_ccc fake.

Usage: aliyun_ccc_interop.py HOST:PORT ACCESS_KEY_ID ACCESS_KEY_SECRET INSTANCE_ID START_MS END_MS [v1]

With `v1` the older official core SDK (aliyun-python-sdk-core, RPC signature v1,
HMAC-SHA1) makes the same calls through a CommonRequest.
Prints one JSON line: {"ok": true, "total": N, "pages": P, "records": R, "unique": U,
"first": {...}} or {"ok": false, "code": ..., "status": ...}.
"""
import json
import sys

from alibabacloud_ccc20200701 import models as ccc_models
from alibabacloud_ccc20200701.client import Client
from alibabacloud_tea_openapi import models as open_api_models


def page_v1(endpoint, ak, secret, instance, start_ms, end_ms, page):
    """One page through aliyun-python-sdk-core (signature v1); returns the Data dict."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest

    client = AcsClient(ak, secret, "cn-shanghai", timeout=10)
    req = CommonRequest()
    req.set_domain(endpoint)
    req.set_protocol_type("http")
    req.set_method("POST")
    req.set_version("2020-07-01")
    req.set_action_name("ListCallDetailRecords")
    req.add_query_param("InstanceId", instance)
    req.add_query_param("PageNumber", str(page))
    req.add_query_param("PageSize", "100")
    req.add_query_param("StartTime", str(start_ms))
    req.add_query_param("EndTime", str(end_ms))
    body = json.loads(client.do_action_with_exception(req))
    return body["Data"]


def main_v1() -> None:
    endpoint, ak, secret, instance, start_ms, end_ms = sys.argv[1:7]
    ids, total, first, pages = [], None, None, 0
    try:
        for page in range(1, 101):
            data = page_v1(endpoint, ak, secret, instance, start_ms, end_ms, page)
            pages += 1
            if page == 1:
                total = int(data["TotalCount"])
                first = data["List"][0] if data["List"] else None
            ids.extend(r["ContactId"] for r in data["List"])
            if len(data["List"]) < 100:
                break
    except Exception as e:  # aliyunsdkcore's ServerException / ClientException
        code = e.get_error_code() if hasattr(e, "get_error_code") else None
        status = e.get_http_status() if hasattr(e, "get_http_status") else None
        print(json.dumps({"ok": False, "code": code, "status": status, "message": str(e)[:200]}))
        return
    print(json.dumps({"ok": True, "total": total, "pages": pages, "records": len(ids),
                      "unique": len(set(ids)), "first": first}, ensure_ascii=False))


def main() -> None:
    if len(sys.argv) > 7 and sys.argv[7] == "v1":
        main_v1()
        return
    endpoint, ak, secret, instance, start_ms, end_ms = sys.argv[1:7]
    config = open_api_models.Config(
        access_key_id=ak,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        read_timeout=10000,
        connect_timeout=5000,
    )
    client = Client(config)
    ids = []
    total = None
    first = None
    pages = 0
    try:
        for page in range(1, 101):
            req = ccc_models.ListCallDetailRecordsRequest(
                instance_id=instance,
                page_number=page,
                page_size=100,
                start_time=int(start_ms),
                end_time=int(end_ms),
            )
            resp = client.list_call_detail_records(req)
            pages += 1
            data = resp.body.data
            if page == 1:
                total = int(data.total_count)
                first = data.list[0].to_map() if data.list else None
            ids.extend(r.contact_id for r in data.list)
            if len(data.list) < 100:
                break
    except Exception as e:  # the SDK's ClientException / ServerException
        print(json.dumps({
            "ok": False,
            "code": getattr(e, "code", None),
            "status": getattr(e, "status_code", None),
            "message": str(getattr(e, "message", e))[:200],
        }))
        return
    print(json.dumps({
        "ok": True,
        "total": total,
        "pages": pages,
        "records": len(ids),
        "unique": len(set(ids)),
        "first": first,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
