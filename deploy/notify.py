#!/usr/bin/env python3
"""The pipeline's notification text, from the environment GitHub Actions gives the notify job.

RESULTS: `toJSON(needs)` (each job's result); COVERAGE: line coverage in percent; DIGEST: the
image digest; GITHUB_*: branch, commit, run. Prints the message; sending is the workflow's.
"""

import json
import os

ORDER = ["test", "coverage", "audit", "sast", "image", "dev", "staging", "prod"]
MARK = {"success": "✅", "failure": "❌", "cancelled": "⏹", "skipped": "·"}


def main():
    env = os.environ
    needs = json.loads(env.get("RESULTS") or "{}")
    results = {job: (needs.get(job) or {}).get("result", "skipped") for job in ORDER}
    failed = [job for job, result in results.items() if result in ("failure", "cancelled")]
    deployed = [job for job in ("dev", "staging", "prod") if results[job] == "success"]
    outcome = "FAILED: " + ", ".join(failed) if failed else "passed"
    run_url = f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY', '')}/actions/runs/{env.get('GITHUB_RUN_ID', '')}"
    lines = [
        f"shop {outcome}",
        f"branch: {env.get('GITHUB_REF_NAME', '?')}",
        f"commit: {env.get('GITHUB_SHA', '?')[:12]}",
        f"image: {env.get('DIGEST') or 'not pushed'}",
        f"coverage: {env.get('COVERAGE') + ' %' if env.get('COVERAGE') else 'n/a'}",
        f"deployed to: {', '.join(deployed) if deployed else 'nothing'}",
        " ".join(f"{MARK.get(results[job], '?')} {job}" for job in ORDER),
        f"run: {run_url}",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
