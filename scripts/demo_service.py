"""`make demo`: start `houfu serve --dev` on 127.0.0.1, make one check through the API, and stop it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def main() -> int:
    houfu = str(Path(sys.executable).with_name("houfu"))
    server = subprocess.Popen([houfu, "serve", "--dev", "--port", str(PORT), "--data-dir", str(ROOT / "out" / "demo-data")])
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/openapi.json", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        body = (ROOT / "examples" / "dingnan-household.yaml").read_bytes()
        req = urllib.request.Request(f"http://127.0.0.1:{PORT}/v1/check", data=body,
                                     headers={"content-type": "application/yaml"})
        report = json.load(urllib.request.urlopen(req, timeout=10))
        print(f"POST /v1/check: {report['id']}, {report['summary']}, record {report['record_id']}")
        print(f"the page: http://127.0.0.1:{PORT}/records/{report['record_id']}")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
