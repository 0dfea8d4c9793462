"""A small Tanma open-platform client, written from the vendor's public document alone
(seed 002: POST /api/v3/app/getCallList) plus the sign formula huadan documents in
VENDORS.md (Tanma publishes no SDK). It is an independent second reading of the API,
used to check huadan's sandbox fake from outside Rust.

Usage (credentials from the environment, as in a huadan.toml):
    TANMA_APP_ID=... TANMA_APP_KEY=... TANMA_APP_SECRET=... \
    python tanma_interop.py ENDPOINT "YYYY-MM-DD HH:MM:SS" "YYYY-MM-DD HH:MM:SS" [PAGE_SIZE]

Prints one JSON line:
    {"ok": true, "count": N, "total": N, "pages": P, "ids": ["661181201146016", ...],
     "statuses": {"0": n, "2": n, ...}, "sentences": n}
or, when Tanma answers with an error code:
    {"ok": false, "code": 10004, "message": "..."}
"""

import hashlib
import json
import os
import sys
import time

import requests


def sign(app_id: str, timestamp: str, app_secret: str) -> str:
    return hashlib.md5((app_id + timestamp + app_secret).encode("utf-8")).hexdigest()


def get_call_list(endpoint, app_id, app_key, app_secret, body):
    timestamp = str(int(time.time() * 1000))
    headers = {
        "appId": app_id,
        "appKey": app_key,
        "timestamp": timestamp,
        "sign": sign(app_id, timestamp, app_secret),
        "Content-Type": "application/json",
    }
    resp = requests.post(
        endpoint.rstrip("/") + "/api/v3/app/getCallList",
        headers=headers,
        data=json.dumps(body),
        timeout=10,
    )
    resp.raise_for_status()
    return resp.json()


def main(argv):
    endpoint, start, end = argv[1], argv[2], argv[3]
    page_size = int(argv[4]) if len(argv) > 4 else 30
    app_id = os.environ["TANMA_APP_ID"]
    app_key = os.environ["TANMA_APP_KEY"]
    app_secret = os.environ["TANMA_APP_SECRET"]

    ids, statuses, sentences, pages, total = [], {}, 0, 0, None
    page_no = 1
    while page_no <= 10000:
        answer = get_call_list(
            endpoint,
            app_id,
            app_key,
            app_secret,
            {"startTime": start, "endTime": end, "type": "call", "pageNo": page_no, "pageSize": page_size},
        )
        if answer.get("code") != 0:
            print(json.dumps({"ok": False, "code": answer.get("code"), "message": answer.get("message")}))
            return 0
        data = answer["data"]
        pages += 1
        total = data["totalCount"]
        for record in data["result"]:
            # Python ints are exact: a 15+ digit id survives as it was sent.
            ids.append(str(record["id"]))
            status = str(record["status"])
            statuses[status] = statuses.get(status, 0) + 1
            if record["status"] == 2:
                # content is JSON inside a string.
                sentences += len(json.loads(record["content"])["Sentences"])
        if page_no >= data["totalPage"]:
            break
        page_no += 1
    print(
        json.dumps(
            {
                "ok": True,
                "count": len(ids),
                "total": total,
                "pages": pages,
                "ids": ids,
                "statuses": statuses,
                "sentences": sentences,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
