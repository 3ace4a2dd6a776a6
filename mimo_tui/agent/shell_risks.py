"""What a simple command does beyond reading: which known programs and options write files or run other code.

Each check gets the program name (its basename) and the arguments after it, already unquoted, and
returns reasons in plain words. An empty answer means nothing beyond what a rule for the command
itself allows. The lists cover the programs an allow rule is likely to name; anything not listed is
judged by the rules alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Risks = tuple[list[str], list[str]]  # (why it writes, why it runs other code)

# Programs whose job is to run another command (or code given to them): never judged by their own name.
RUNS_ANOTHER_COMMAND = {
    "eval": "eval runs its arguments as a shell command",
    "exec": "exec replaces the shell with another command",
    "source": "source runs a script in this shell",
    ".": ". runs a script in this shell",
    "xargs": "xargs runs a command for its input",
    "sudo": "sudo runs a command as another user",
    "doas": "doas runs a command as another user",
    "su": "su runs a command as another user",
    "runuser": "runuser runs a command as another user",
    "nohup": "nohup runs another command",
    "timeout": "timeout runs another command",
    "watch": "watch runs another command repeatedly",
    "builtin": "builtin runs a shell builtin",
    "nice": "nice runs another command",
    "ionice": "ionice runs another command",
    "stdbuf": "stdbuf runs another command",
    "setsid": "setsid runs another command",
    "chroot": "chroot runs another command",
    "strace": "strace runs another command",
    "ltrace": "ltrace runs another command",
    "flock": "flock runs another command",
    "parallel": "parallel runs commands",
    "unbuffer": "unbuffer runs another command",
    "script": "script runs another command",
    "trap": "trap sets a command to run later",
    "let": "let evaluates arithmetic, which can run command substitutions",
    "hash": "hash can change which program a later command runs",
    "enable": "enable can load code into the shell",
    "busybox": "busybox runs another applet",
    "fc": "fc re-runs earlier commands",
}

SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash"}
INTERPRETERS_INLINE = {  # program -> short options that take code on the command line
    "perl": "eE",
    "ruby": "e",
    "node": "ep",
    "nodejs": "ep",
    "php": "r",
    "lua": "e",
    "osascript": "e",
    "deno": "",
    "bun": "e",
}
PYTHON = re.compile(r"^(python|pypy)[\d.]*$")
DEV_FILES = {"/dev/null", "/dev/stdout", "/dev/stderr"}


def _short_cluster(word: str) -> str:
    """The letters of a short-option cluster (`-sSo` -> `sSo`), or '' for anything else."""
    return word[1:] if word.startswith("-") and not word.startswith("--") and len(word) > 1 else ""


def _long_name(word: str) -> str:
    return word.split("=", 1)[0] if word.startswith("--") else ""


def _is_long(word: str, *names: str) -> bool:
    """`word` is one of the long options `names` (with or without `=value`), or an unambiguous-looking
    abbreviation of one (`--outp`), since some parsers accept abbreviations."""
    name = _long_name(word)
    return len(name) >= 4 and any(option.startswith(name) for option in names)


def _options(args: list[str]) -> list[str]:
    """The arguments before `--` (after it, everything is an operand)."""
    return args[: args.index("--")] if "--" in args else args


def _leading_options(args: list[str]) -> list[str]:
    """The options before the first operand (an interpreter's own options, not its script's)."""
    leading = []
    for arg in args:
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        leading.append(arg)
    return leading


def _shell(name: str, args: list[str]) -> Risks:
    index = 0
    while index < len(args) and args[index][:1] in {"-", "+"} and args[index] not in {"-", "--"}:
        option = args[index]
        letters = option[1:] if not option.startswith("--") else ""
        if set(letters) & {"c", "s", "i"}:
            return [], [f"{name} {option} runs the commands given to it"]
        takes_value = letters[-1:] in {"o", "O"} or option in {"--rcfile", "--init-file"}
        index += 2 if takes_value else 1
    rest = args[index:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest or rest[0] == "-":
        return [], [f"{name} runs the commands it reads from its input"]
    return [], []


def _python(name: str, args: list[str]) -> Risks:
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] not in {"-", "--"}:
        letters = _short_cluster(args[index])
        if "c" in letters.split("W")[0].split("X")[0]:
            return [], [f"{name} -c runs the code given to it"]
        if "m" in letters:
            return [], []  # runs a module: judged by the rule that names it
        index += 2 if letters in {"W", "X"} else 1
    rest = args[index:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    if not rest or rest[0] == "-":
        return [], [f"{name} runs the code it reads from its input"]
    return [], []


def _interpreter(name: str, args: list[str]) -> Risks:
    """Any argument that looks like the inline-code option counts (a script's own `-e` asks too: safe side)."""
    letters = INTERPRETERS_INLINE[name]
    for option in _options(args):
        if any(letter in _short_cluster(option) for letter in letters) or _is_long(option, "--eval", "--print"):
            return [], [f"{name} {option} runs the code given to it"]
    if name == "deno" and args[:1] == ["eval"]:
        return [], ["deno eval runs the code given to it"]
    return [], []


def _env(name: str, args: list[str]) -> Risks:
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
        elif arg in {"-u", "--unset", "-C", "--chdir"}:
            skip_value = True
        elif arg.startswith(("-S", "--split-string")):
            return [], ["env -S runs a command"]
        elif not (arg.startswith("-") or "=" in arg):
            return [], [f"env runs another command ({arg})"]
    return [], []


def _command_builtin(name: str, args: list[str]) -> Risks:
    options = _leading_options(args)
    if any(set(_short_cluster(o)) & {"v", "V"} for o in options):
        return [], []  # `command -v x` only says where x is
    return [], ["command runs another command"]


def _find(name: str, args: list[str]) -> Risks:
    writes, code = [], []
    for arg in args:
        if arg in {"-exec", "-execdir", "-ok", "-okdir"}:
            code.append(f"find {arg} runs a command for each file")
        elif arg == "-delete":
            writes.append("find -delete deletes files")
        elif arg in {"-fprint", "-fprint0", "-fprintf", "-fls"}:
            writes.append(f"find {arg} writes a file")
    return writes, code


def _fd(name: str, args: list[str]) -> Risks:
    for arg in _options(args):
        if arg in {"-x", "-X"} or _is_long(arg, "--exec", "--exec-batch"):
            return [], [f"{name} {arg} runs a command for each file"]
    return [], []


def _rg(name: str, args: list[str]) -> Risks:
    for arg in _options(args):
        if _long_name(arg) == "--pre" or arg == "--pre":
            return [], ["rg --pre runs a program on each file"]
    return [], []


def _tee(name: str, args: list[str]) -> Risks:
    files = [a for a in args if not a.startswith("-") and a not in DEV_FILES]
    return ([f"tee writes to {', '.join(files)}"] if files else []), []


def _sed(name: str, args: list[str]) -> Risks:
    for arg in _options(args):
        if "i" in _short_cluster(arg) or _is_long(arg, "--in-place"):
            return ["sed -i edits files in place"], []
    return [], []


def _sort(name: str, args: list[str]) -> Risks:
    for arg in _options(args):
        if "o" in _short_cluster(arg) or _is_long(arg, "--output"):
            return [f"sort {arg} writes a file"], []
    return [], []


def _curl(name: str, args: list[str]) -> Risks:
    long_writes = ("--output", "--remote-name", "--remote-name-all", "--output-dir", "--dump-header", "--cookie-jar",
                   "--trace", "--trace-ascii", "--stderr", "--libcurl", "--etag-save", "--hsts", "--alt-svc", "--create-dirs")
    for arg in args:
        if set(_short_cluster(arg)) & set("oOcD") or _is_long(arg, *long_writes):
            return [f"curl {arg} writes a file"], []
    return [], []


def _wget(name: str, args: list[str]) -> Risks:
    if "--spider" in args:
        return [], []
    return ["wget saves what it downloads to a file"], []


def _dd(name: str, args: list[str]) -> Risks:
    targets = [a[3:] for a in args if a.startswith("of=")]
    return ([f"dd writes {t}" for t in targets if t not in DEV_FILES]), []


def _tar(name: str, args: list[str]) -> Risks:
    code_options = ("--to-command", "--use-compress-program", "--checkpoint-action", "--info-script", "--new-volume-script",
                    "--rsh-command", "--rmt-command")
    for arg in args:
        if _is_long(arg, *code_options) or arg.startswith("-I") or arg == "-F":
            return [], [f"tar {arg} runs a program"]
    return [], []


# git: options before the subcommand that point it at other configuration (which can run programs).
GIT_GLOBAL_WITH_VALUE = {"-c", "-C", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix",
                         "--exec-path", "--list-cmds"}
GIT_GLOBAL_CODE = {"-c": "sets configuration", "-C": "runs in another repository", "--git-dir": "uses another repository",
                   "--work-tree": "uses another work tree", "--exec-path": "runs git programs from another place",
                   "--config-env": "sets configuration", "--namespace": "uses another namespace",
                   "--super-prefix": "uses another prefix"}
GIT_CODE_OPTIONS = ("--ext-diff", "--textconv", "--upload-pack", "--receive-pack", "--exec", "--open-files-in-pager",
                    "--template", "--config", "--extcmd", "--tool")


def _git(name: str, args: list[str]) -> Risks:
    writes, code = [], []
    index = 0
    while index < len(args) and args[index].startswith("-"):
        option = args[index]
        key = option.split("=", 1)[0] if option.startswith("--") else option[:2]
        if key in GIT_GLOBAL_CODE:
            code.append(f"git {key} {GIT_GLOBAL_CODE[key]}, which can run other programs")
        takes_value = option in GIT_GLOBAL_WITH_VALUE and option not in {"--exec-path", "--list-cmds"}
        index += 2 if takes_value else 1
    if index >= len(args):
        return writes, code
    sub, rest = args[index], _options(args[index + 1:])
    for arg in rest:
        if _is_long(arg, "--output", "--output-directory"):
            writes.append(f"git {sub} {arg} writes a file")
        elif _is_long(arg, *GIT_CODE_OPTIONS):
            code.append(f"git {sub} {arg} can run another program")
        elif sub == "grep" and arg.startswith("-O"):
            code.append("git grep -O opens a program")
        elif sub == "rebase" and ("x" in _short_cluster(arg)):
            code.append("git rebase -x runs a command")
        elif sub in {"clone", "fetch", "pull", "ls-remote", "archive"} and arg.startswith("-u"):
            code.append(f"git {sub} -u runs an upload program")
        elif sub in {"format-patch", "archive"} and arg.startswith("-o"):
            writes.append(f"git {sub} {arg} writes files")
    if sub in {"difftool", "mergetool", "bisect"} and not code:
        code.append(f"git {sub} runs other programs")
    return writes, code


CHECKS: dict[str, Callable[[str, list[str]], Risks]] = {
    "env": _env,
    "command": _command_builtin,
    "find": _find,
    "fd": _fd,
    "fdfind": _fd,
    "rg": _rg,
    "tee": _tee,
    "sed": _sed,
    "gsed": _sed,
    "sort": _sort,
    "curl": _curl,
    "wget": _wget,
    "dd": _dd,
    "tar": _tar,
    "git": _git,
    **{shell: _shell for shell in SHELLS},
    **{interpreter: _interpreter for interpreter in INTERPRETERS_INLINE},
}


def options_matter(program: str) -> bool:
    """Whether an argument of `program` can change what it does beyond reading (so unknown arguments must ask)."""
    name = program.rsplit("/", 1)[-1]
    return name in RUNS_ANOTHER_COMMAND or name in CHECKS or bool(PYTHON.match(name))


def program_risks(program: str, args: list[str]) -> Risks:
    """Why running `program args` writes files or runs code beyond itself, as (writes, runs_code) reasons."""
    name = program.rsplit("/", 1)[-1]
    if name in RUNS_ANOTHER_COMMAND:
        return [], [RUNS_ANOTHER_COMMAND[name]]
    if PYTHON.match(name):
        return _python(name, args)
    check = CHECKS.get(name)
    if check is None:
        return [], []
    writes, code = check(name, args)
    return list(writes), list(code)
