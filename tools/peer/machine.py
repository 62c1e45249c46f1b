"""What both peer scripts record about the machine they ran on (stdlib only)."""
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
