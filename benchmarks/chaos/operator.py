"""The operator's `flask ...` commands of one setup step, run in one process: the app's CLI (wsgi.app's commands,
through Flask's CLI runner) with the app imported once instead of once per command. A loaded two-core machine
takes 10-20 s to start each `flask` process, and the setup runs a dozen of them.

stdin: a JSON list of argument lists; stdout: a JSON list of each command's last output line. A command that fails
is run again (SQLite refuses writers while the workers write: "database is locked"); one that keeps failing ends
the batch with exit status 1 and its error on stderr, unless its first argument is "?" (then it is run once and its
failure is only reported as its output).
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from wsgi import app

    runner = app.test_cli_runner()
    outputs = []
    for args in json.load(sys.stdin):
        optional = args[:1] == ["?"]
        args = args[1:] if optional else args
        for attempt in range(5):
            result = runner.invoke(args=args)
            if result.exit_code == 0 or optional:
                outputs.append(result.output.strip().splitlines()[-1] if result.output.strip() else "")
                break
            time.sleep(1 + attempt)
        else:
            error = result.exception if result.exception and not isinstance(result.exception, SystemExit) else ""
            print(f"flask {' '.join(args)} failed: {result.output.strip()[-500:]} {error!r}", file=sys.stderr)
            return 1
    json.dump(outputs, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
