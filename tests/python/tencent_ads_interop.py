#!/usr/bin/env python3
"""A small Tencent Ads Marketing API client, written from the vendor's public
documentation of GET /v3.0/leads_call_records/get (seed 003) with `requests`, used as
an independent client of huadan's sandbox (there is no official SDK on PyPI that we
require). It pages with search_after as the documentation says, re-asking from one
second earlier and de-duplicating by call_id so that calls sharing a second are kept.

Prints one line of JSON: {"code": 0, "count": N, "call_ids": [...]} on success, or the
vendor's {"code": ..., "message": ...} on an error (exit status 3).
"""

import argparse
import datetime
import json
import sys
import time
import uuid

import requests


def auth_params(access_token):
    # timestamp: unix seconds (±300 s allowed); nonce: ≤ 32 chars, globally unique.
    return {
        "access_token": access_token,
        "timestamp": str(int(time.time())),
        "nonce": uuid.uuid4().hex,
    }


def get_page(session, endpoint, access_token, params):
    query = dict(auth_params(access_token))
    query.update(params)
    answer = session.get(endpoint.rstrip("/") + "/v3.0/leads_call_records/get", params=query, timeout=20)
    answer.raise_for_status()
    return answer.json()


def one_second_earlier(gmt8_text):
    t = datetime.datetime.strptime(gmt8_text, "%Y-%m-%d %H:%M:%S")
    return (t - datetime.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--access-token", required=True)
    p.add_argument("--account-id", required=True, type=int)
    p.add_argument("--start-date", required=True)
    p.add_argument("--end-date", required=True)
    p.add_argument("--page-size", type=int, default=100)
    args = p.parse_args()

    session = requests.Session()
    base = {
        "account_id": args.account_id,
        "page_size": args.page_size,
        "start_date": args.start_date,
        "end_date": args.end_date,
        "page": 1,
    }
    seen = set()
    ordered = []
    search_after = None
    for _ in range(10000):
        params = dict(base)
        if search_after is not None:
            params["search_after"] = search_after
        body = get_page(session, args.endpoint, args.access_token, params)
        if body.get("code") != 0:
            print(json.dumps({"code": body.get("code"), "message": body.get("message", "")}, ensure_ascii=False))
            return 3
        entities = (body.get("data") or {}).get("entities") or []
        for e in entities:
            if e["call_id"] not in seen:
                seen.add(e["call_id"])
                ordered.append(e["call_id"])
        if len(entities) < args.page_size:
            break
        last = entities[-1]["call_start_time"]
        nxt = one_second_earlier(last)
        if nxt == search_after:
            # A whole page inside one second: fall back to page numbers from page 1.
            page = 1
            while True:
                params = dict(base, page=page)
                body = get_page(session, args.endpoint, args.access_token, params)
                if body.get("code") != 0:
                    print(json.dumps({"code": body.get("code"), "message": body.get("message", "")}))
                    return 3
                entities = (body.get("data") or {}).get("entities") or []
                for e in entities:
                    if e["call_id"] not in seen:
                        seen.add(e["call_id"])
                        ordered.append(e["call_id"])
                if len(entities) < args.page_size:
                    break
                page += 1
            break
        search_after = nxt
    print(json.dumps({"code": 0, "count": len(ordered), "call_ids": ordered}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
