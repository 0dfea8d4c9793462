"""Interop: the official WeCom SDK (wechatpy) as a real client of huadan's WeCom fake.

wechatpy has no call for dial/get_dial_record and builds the gettoken URL without its
configurable base URL, so this uses its WeCom client's generic ``post`` and a subclass
whose token fetch goes to the fake (VENDORS.md § wecom). Everything else — the token
cache, the access_token query parameter, JSON bodies, errcode handling and its
automatic refresh on 40001/40014/42001 — is wechatpy's own.

usage: wecom_interop.py ENDPOINT CORP_ID CORP_SECRET START_TIME END_TIME
prints one JSON line:
  {"ok": true, "records": [...], "pages": N, "token_fetches": K}
  {"ok": false, "errcode": N, "errmsg": "..."}
"""
import json
import sys

from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException


class SandboxWeChatClient(WeChatClient):
    """wechatpy's WeCom client, pointed at the sandbox."""

    def __init__(self, endpoint, corp_id, secret):
        self.API_BASE_URL = endpoint.rstrip("/") + "/cgi-bin/"
        self.token_fetches = 0
        super().__init__(corp_id, secret, timeout=30)

    def fetch_access_token(self):
        self.token_fetches += 1
        return self._fetch_access_token(
            url=self.API_BASE_URL + "gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
        )


def main():
    endpoint, corp_id, secret, start, end = sys.argv[1:6]
    client = SandboxWeChatClient(endpoint, corp_id, secret)
    records, pages, offset, limit = [], 0, 0, 100
    try:
        for _ in range(10000):
            res = client.post(
                "dial/get_dial_record",
                data={"start_time": int(start), "end_time": int(end), "offset": offset, "limit": limit},
            )
            page = res.get("record") or []
            pages += 1
            records.extend(page)
            offset += len(page)
            if len(page) < limit:
                break
    except WeChatClientException as e:
        print(json.dumps({"ok": False, "errcode": e.errcode, "errmsg": e.errmsg}))
        return
    print(json.dumps({"ok": True, "records": records, "pages": pages, "token_fetches": client.token_fetches}))


if __name__ == "__main__":
    main()
