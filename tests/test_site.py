import html
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_site_builds_strict_with_every_snippet_expanded(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    step1 = (tmp_path / "fundamentals" / "step1-ml-prerequisites" / "index.html").read_text()
    assert "8&lt;" not in step1, "an include line was left unexpanded"
    assert "class MLP(nn.Module):" in html.unescape(re.sub(r"<[^>]+>", "", step1))
    assert 'snippet-source">Source: <a href="https://github.com/mi-course/mi-course/blob/main/snippets/step1/mnist_mlp.py"' in step1
    assert re.search(r"tested by <code>pytest docs/fundamentals/step1-ml-prerequisites.md</code>", step1)
