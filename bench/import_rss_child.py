"""The fresh interpreter ``bench/import_rss.py`` measures in: it imports the module names given
on stdin (one a line) one at a time and prints each one's own RSS cost, then every shared
library's resident pages.

It imports nothing itself beyond what the interpreter has already loaded at start-up, so that
its own imports are not counted as the worker's. A finder placed first on ``sys.meta_path``
wraps every loader the other finders return and reads RSS around the module's loading (a C
extension's ``dlopen`` included), minus what the module's own imports added.

Output lines: ``start KB``, ``module NAME KB`` in import order, ``end KB``, ``library PATH KB``.
"""

import importlib
import sys

_PAGE_KB = 4


def rss_kb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_KB


class Measuring:
    """The finder: delegates to the others, wraps their loaders in MeasuredLoader."""

    def __init__(self):
        self.own_kb = {}
        self.order = []
        self.nested = []  # per open import: kB its own imports added

    def find_spec(self, name, path, target=None):
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = MeasuredLoader(spec.loader, name, self)
                return spec
        return None

    def measured(self, name, step):
        self.nested.append(0)
        before = rss_kb()
        try:
            return step()
        finally:
            total = rss_kb() - before
            own = total - self.nested.pop()
            if name not in self.own_kb:
                self.order.append(name)
            self.own_kb[name] = self.own_kb.get(name, 0) + own
            if self.nested:
                self.nested[-1] += total


class MeasuredLoader:
    def __init__(self, inner, name, probe):
        self._inner, self._name, self._probe = inner, name, probe

    def create_module(self, spec):
        return self._probe.measured(self._name, lambda: self._inner.create_module(spec))

    def exec_module(self, module):
        self._probe.measured(self._name, lambda: self._inner.exec_module(module))

    def __getattr__(self, attribute):  # get_resource_reader, is_package, get_data, ...
        return getattr(self._inner, attribute)


def resident_libraries():
    """Resident kB per mapped shared library file, from /proc/self/smaps."""
    sums = {}
    current = ""
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if not fields:
                continue
            if not fields[0].endswith(":"):  # a mapping's header: range perms offset dev inode path
                current = fields[5] if len(fields) > 5 and ".so" in fields[5] else ""
            elif current and fields[0] == "Rss:":
                sums[current] = sums.get(current, 0) + int(fields[1])
    return sorted(sums.items(), key=lambda kv: -kv[1])


def main():
    names = sys.stdin.read().split()
    probe = Measuring()
    print("start", rss_kb())
    sys.meta_path.insert(0, probe)
    for name in names:
        if name in sys.modules:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # importtime also lists imports that failed (copy tries org.python)
            continue
    sys.meta_path.remove(probe)
    end = rss_kb()
    for name in probe.order:
        print("module", name, probe.own_kb[name])
    print("end", end)
    for path, kb in resident_libraries():
        print("library", path, kb)


if __name__ == "__main__":
    main()
