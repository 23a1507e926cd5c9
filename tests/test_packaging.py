"""The built package works on its own: wheel contents, a fresh project, one scheduler pass.

The ``packaging`` tests build the sdist and the wheel from a copy of this
checkout, install the wheel with the pinned dependencies into a new virtualenv
outside the repository, create a project with ``django-admin startproject``,
add the tutorial's provider (docs/tutorial.md), migrate, schedule a task
through ``scheduler_app.services`` and run ``manage.py runscheduler``.
scripts/test runs them once per Django version; anything missing (a build
tool, an interpreter, a file in the wheel) fails them, nothing is skipped.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import django
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scheduler_app"
# Django 6.x runs on the pins of requirements.txt, Django 5.2 on those of requirements-django52.txt.
REQUIREMENTS = ROOT / (
    "requirements.txt" if django.VERSION >= (6,) else "requirements-django52.txt"
)
# What a project needs at run time; the test tools of the requirements files are left out.
RUNTIME = {
    "django",
    "croniter",
    "cron-descriptor",
    "django-guardian",
    "asgiref",
    "sqlparse",
    "tzdata",
}
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    "var",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    "*.py[cod]",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "test-artifacts",
    "node_modules",
    "*.sqlite3",
    "*.sqlite3-*",
    ".coverage*",
    "htmlcov",
)
# Names the import check refuses: the demo project, the tests, the benchmarks.
FORBIDDEN_TOP_LEVEL = {"project", "tests", "bench"}


def run(
    *args: str | Path,
    cwd: Path,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 300,
) -> str:
    """Run a command; on failure, fail the test with its whole output."""
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        input=input,
        text=True,
        capture_output=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}",
            pytrace=False,
        )
    return proc.stdout


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this repository's settings, virtualenv or services."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "PYTHONPATH",
            "VIRTUAL_ENV",
            "DATABASE_URL",
            "REDIS_URL",
            "SQLITE_TEST_DB",
            "PYTEST_XDIST_WORKER",
            "PYTEST_CURRENT_TEST",
            "COV_CORE_SOURCE",
            "COV_CORE_CONFIG",
            "COV_CORE_DATAFILE",
            "COVERAGE_PROCESS_START",
        }
    }
    env.update(extra)
    return env


def tutorial_block(name: str) -> str:
    """The code block of docs/tutorial.md marked ``<!-- tutorial: name -->``."""
    text = (ROOT / "docs" / "tutorial.md").read_text()
    match = re.search(rf"<!-- tutorial: {re.escape(name)} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"docs/tutorial.md has no code block marked 'tutorial: {name}'"
    return match[1]


def quickstart_block(name: str) -> str:
    """The code block of the README's Quick start marked ``<!-- quickstart: name -->``."""
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- quickstart: {re.escape(name)} -->\n```python\n(.*?)```", text, re.S)
    assert match, f"README.md has no code block marked 'quickstart: {name}'"
    return match[1]


def constraints(tmp: Path) -> Path:
    """The pinned requirements as a pip constraints file (constraints take no extras)."""
    lines = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(re.sub(r"\[.*?\]", "", line))
    path = tmp / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


# -- no imports of the demo project or the tests ---------------------------------------------


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", ""))
            in {"import_module", "__import__", "import_string"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def test_scheduler_app_imports_nothing_from_the_demo_project_or_the_tests():
    offending = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.split(".", 1)[0] in FORBIDDEN_TOP_LEVEL
    ]
    assert not offending, "scheduler_app must stand alone:\n" + "\n".join(offending)


# -- build, install, run ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """Build the sdist, then the wheel from the sdist (``python -m build``), from a copy."""
    tmp = tmp_path_factory.mktemp("build")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=COPY_IGNORE)
    out = tmp / "dist"
    run(sys.executable, "-m", "build", "--outdir", out, source, cwd=tmp, env=clean_env())
    found = {"sdist": list(out.glob("*.tar.gz")), "wheel": list(out.glob("*.whl"))}
    assert all(len(paths) == 1 for paths in found.values()), found
    return {"source": source, "sdist": found["sdist"][0], "wheel": found["wheel"][0]}


@pytest.mark.packaging
def test_the_wheel_carries_every_file_of_the_package(dists):
    package = dists["source"] / "scheduler_app"
    expected = {
        path.relative_to(package.parent).as_posix()
        for path in package.rglob("*")
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in {".pyc", ".pyo"}
    }
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    missing = sorted(expected - names)
    assert not missing, (
        "files of scheduler_app/ missing from the wheel (see package-data in "
        "pyproject.toml):\n" + "\n".join(missing)
    )
    for required in (
        "scheduler_app/py.typed",
        "scheduler_app/migrations/0001_initial.py",
        "scheduler_app/locale/de/LC_MESSAGES/django.po",
        "scheduler_app/locale/de/LC_MESSAGES/django.mo",
    ):
        assert required in names, f"{required} is not in the wheel"
    for kind in (
        "templates",
        "static",
        "templatetags",
        "management/commands",
        "admin",
        "views",
        "engine",
        "contrib",
    ):
        assert any(n.startswith(f"scheduler_app/{kind}/") for n in names), f"no {kind} in the wheel"
    assert not any(n.split("/", 1)[0] in FORBIDDEN_TOP_LEVEL for n in names), (
        "the wheel carries the demo"
    )
    import scheduler_app

    assert f"Version: {scheduler_app.__version__}\n" in metadata
    assert "License-Expression: BSD-3-Clause" in metadata


@pytest.mark.packaging
def test_the_sdist_carries_the_license_changelog_and_docs(dists):
    import tarfile

    with tarfile.open(dists["sdist"]) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for required in (
        "LICENSE",
        "README.md",
        "CHANGELOG.md",
        "pyproject.toml",
        "docs/tutorial.md",
        "scheduler_app/locale/de/LC_MESSAGES/django.mo",
    ):
        assert required in names, f"{required} is not in the sdist"


@pytest.mark.packaging
def test_a_fresh_project_installs_the_wheel_migrates_and_runs_a_scheduled_task(dists, tmp_path):
    env = clean_env(DJANGO_SUPERUSER_PASSWORD="pw-for-the-test")
    # A virtualenv of this interpreter's base Python, outside the repository.
    home = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(home)
    python = home / "bin" / "python"
    pinned = constraints(tmp_path)
    run(
        python,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--quiet",
        "-c",
        pinned,
        dists["wheel"],
        cwd=tmp_path,
        env=env,
    )
    wanted_django = re.search(r"^Django==(\S+)$", REQUIREMENTS.read_text(), re.M)[1]
    versions = run(
        python,
        "-c",
        "import django, scheduler_app; print(django.get_version(), scheduler_app.__file__)",
        cwd=tmp_path,
        env=env,
    ).split()
    assert versions[0] == wanted_django
    assert Path(versions[1]).is_relative_to(home), "scheduler_app was not imported from the wheel"

    # django-admin startproject, plus the tutorial's provider app.
    site = tmp_path / "site"
    site.mkdir()
    run(home / "bin" / "django-admin", "startproject", "mysite", site, cwd=tmp_path, env=env)
    manage = (python, site / "manage.py")
    run(*manage, "startapp", "greetings", cwd=site, env=env)
    (site / "greetings" / "scheduler_tasks.py").write_text(
        tutorial_block("greetings/scheduler_tasks.py")
    )
    # The README's Quick start, taken literally, plus the tutorial's app.
    settings = site / "mysite" / "settings.py"
    settings.write_text(
        settings.read_text()
        + "\n"
        + quickstart_block("settings.py")
        + quickstart_block("one scheduler")
        + 'INSTALLED_APPS += ["greetings"]\n'
    )
    (site / "mysite" / "urls.py").write_text(quickstart_block("urls.py"))
    run(*manage, "migrate", "--noinput", "-v", "0", cwd=site, env=env)
    checked = run(*manage, "check", "--fail-level", "WARNING", cwd=site, env=env)
    assert "scheduler_app.W" not in checked, checked
    run(
        *manage,
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
        cwd=site,
        env=env,
    )

    # The tutorial's scheduling code, writing into this test's directory.
    greeting = tmp_path / "greeting.txt"
    code = tutorial_block("schedule.py").replace("/tmp/greeting.txt", str(greeting))
    run(*manage, "shell", cwd=site, env=env, input=code)
    assert not greeting.exists(), "the task ran before the scheduler did"

    out = run(*manage, "runscheduler", cwd=site, env=env)
    assert greeting.read_text() == "Hello from the scheduler\n", out
    logs = run(
        *manage,
        "shell",
        "-c",
        "from scheduler_app.models import TaskExecutionLog as L, ScheduledTask as T\n"
        "print(list(L.objects.values_list('status', flat=True)), "
        "list(T.objects.filter(module_id='greetings').values_list('status', flat=True)))",
        cwd=site,
        env=env,
    )
    assert logs.strip().splitlines()[-1] == "['success'] ['pending']", logs

    # The admin smoke walk of tests/admin_smoke.py, as the superuser, in this project.
    walk = (ROOT / "tests" / "admin_smoke.py").read_text() + (
        "\nfrom django.test.utils import setup_test_environment\n"
        "setup_test_environment()\n"
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        "from scheduler_app.models import ScheduledTask\n"
        "client = Client()\n"
        "client.force_login(get_user_model().objects.get(username='admin'))\n"
        "pages = admin_smoke(client, ScheduledTask.objects.get(module_id='greetings'))\n"
        "print('walked', len(pages), sorted(pages))\n"
    )
    walked = run(*manage, "shell", cwd=site, env=env, input=walk)
    assert "walked" in walked and "/logs/" in walked and "/scheduler/" in walked, walked

    # The German catalogue travels in the wheel and is used.
    german = run(
        *manage,
        "shell",
        "-c",
        "from django.utils import translation\n"
        "from scheduler_app.models import ScheduledTask\n"
        "translation.activate('de')\n"
        "print(ScheduledTask._meta.verbose_name)",
        cwd=site,
        env=env,
    )
    assert german.strip().splitlines()[-1] == "geplante Aufgabe", german
