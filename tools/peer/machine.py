"""What the peer scripts record about the machine they ran on, and how they hand their figures on (stdlib only)."""
import json
import platform


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or what platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def emit(result, path=None):
    """Prints the figures as JSON, and writes the same text to `path` when given."""
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        with open(path, "w") as f:
            f.write(text + "\n")
