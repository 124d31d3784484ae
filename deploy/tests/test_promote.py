"""deploy/promote.py against real git repositories: a bare "origin" and clones of it holding
a copy of deploy/k8s, as the pipeline's jobs would. Each pin is rendered with
`kubectl kustomize` (when kubectl is installed) to prove the overlay deploys that image.

    python3 -m unittest discover -s deploy/tests -v
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROMOTE = os.path.join(ROOT, "deploy", "promote.py")
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
IMAGE = "ghcr.io/acme/shop-reference-app"


def run(*args, cwd, env=None, check=True):
    return subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})}, text=True, capture_output=True, check=check
    )


def git(cwd, *args):
    return run("git", *args, cwd=cwd).stdout.strip()


class PromoteTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="promote-test-")
        self.origin = os.path.join(self.tmp, "origin.git")
        run("git", "init", "--quiet", "--bare", "--initial-branch=main", self.origin, cwd=self.tmp)
        seed = self.clone("seed")
        shutil.copytree(os.path.join(ROOT, "deploy", "k8s"), os.path.join(seed, "deploy", "k8s"))
        shutil.copytree(
            os.path.join(ROOT, "deploy", "monitoring"), os.path.join(seed, "deploy", "monitoring")
        )
        git(seed, "add", "-A")
        git(seed, "commit", "--quiet", "-m", "manifests")
        git(seed, "push", "--quiet", "origin", "main")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def clone(self, name):
        path = os.path.join(self.tmp, name)
        run("git", "clone", "--quiet", self.origin, path, cwd=self.tmp)
        git(path, "config", "user.name", "test")
        git(path, "config", "user.email", "test@example.com")
        return path

    def promote(self, cwd, *args, env=None, check=True):
        return run(sys.executable, PROMOTE, *args, cwd=cwd, env=env, check=check)

    def origin_file(self, env):
        return git(self.origin, "show", f"main:deploy/k8s/overlays/{env}/kustomization.yaml")

    def rendered_image(self, repo, env):
        if not shutil.which("kubectl"):
            self.skipTest("kubectl is not installed")
        out = run("kubectl", "kustomize", f"deploy/k8s/overlays/{env}", cwd=repo).stdout
        images = {line.split("image:", 1)[1].strip() for line in out.splitlines() if " image: " in line}
        self.assertEqual(len(images), 1, images)
        return images.pop()

    def test_pin_commits_the_digest_and_pushes_it(self):
        work = self.clone("work")
        out = self.promote(work, "pin", "dev", IMAGE, DIGEST_A, "--revision", "0123456789abcdef").stdout
        commit = out.split("commit=", 1)[1].strip()
        self.assertEqual(git(self.origin, "rev-parse", "main"), commit)
        self.assertIn(f"digest: {DIGEST_A}", self.origin_file("dev"))
        self.assertNotIn("newTag", self.origin_file("dev"))
        self.assertIn('newTag: "0.1.0"', self.origin_file("prod"), "other environments stay")
        message = git(self.origin, "log", "-1", "--format=%B", "main")
        self.assertIn("deploy(dev): reference-app 0123456789ab", message)
        self.assertIn("Deployed-Revision: 0123456789abcdef", message)
        self.assertEqual(self.rendered_image(work, "dev"), f"{IMAGE}@{DIGEST_A}")
        # The same image again: nothing to commit.
        again = self.promote(work, "pin", "dev", IMAGE, DIGEST_A).stdout
        self.assertEqual(again.strip(), "commit=")
        self.assertEqual(git(self.origin, "rev-parse", "main"), commit)

    def test_a_stale_clone_rebases_and_both_pins_land(self):
        first, stale = self.clone("first"), self.clone("stale")
        self.promote(first, "pin", "dev", IMAGE, DIGEST_A)
        # `stale` has not seen dev's pin: its push is refused, it rebases and pushes again.
        result = self.promote(stale, "pin", "staging", IMAGE, DIGEST_B)
        self.assertIn("rebasing", result.stderr)
        self.assertIn(f"digest: {DIGEST_A}", self.origin_file("dev"))
        self.assertIn(f"digest: {DIGEST_B}", self.origin_file("staging"))

    def test_rollback_reverts_the_pin_and_only_a_pin_of_that_environment(self):
        work = self.clone("work")
        before = self.origin_file("staging")
        self.promote(work, "pin", "staging", IMAGE, DIGEST_A)
        dev = self.promote(work, "pin", "dev", IMAGE, DIGEST_B).stdout.split("commit=")[1].strip()
        staging = git(work, "log", "-1", "--format=%H", "--", "deploy/k8s/overlays/staging")
        refused = self.promote(work, "rollback", "staging", dev, check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("is not a pin of staging", refused.stderr)
        self.promote(work, "rollback", "staging", staging)
        self.assertEqual(self.origin_file("staging"), before)
        self.assertIn(f"digest: {DIGEST_B}", self.origin_file("dev"), "dev keeps its pin")
        git(work, "pull", "--quiet", "--rebase", "origin", "main")
        self.assertEqual(self.rendered_image(work, "staging"), f"{IMAGE.split('/acme')[0]}/example/shop-reference-app:0.1.0")

    def test_a_separate_manifests_repository(self):
        # Run from a directory that is no repository at all: the clone is the promote's own.
        elsewhere = tempfile.mkdtemp(dir=self.tmp)
        env = {
            "MANIFESTS_REPO": self.origin,
            "GIT_AUTHOR_NAME": "pipeline",
            "GIT_AUTHOR_EMAIL": "pipeline@example.com",
        }
        self.promote(elsewhere, "pin", "prod", IMAGE, DIGEST_A, env=env)
        self.assertIn(f"digest: {DIGEST_A}", self.origin_file("prod"))
        current = self.promote(elsewhere, "current", "prod", env=env).stdout
        self.assertIn(f"digest={DIGEST_A}", current)

    def test_refuses_what_is_not_a_digest(self):
        work = self.clone("work")
        bad = self.promote(work, "pin", "dev", IMAGE, "latest", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("not a sha256 digest", bad.stderr)


if __name__ == "__main__":
    unittest.main()
