# Feed a file to a command in a pty; print the wall time and the CPU time (user + system
# of the command and every process it waited for) in microseconds.
# Usage: python3 benches/drive_pty.py INPUT CMD [ARG...]   (for benches/prompt_*.sh)
import os, pty, select, sys, time
data = open(sys.argv[1], "rb").read()
argv = sys.argv[2:]
t0 = time.perf_counter()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
while True:
    w = [fd] if data else []
    r, w, _ = select.select([fd], w, [], 60)
    if not r and not w:
        break
    if w:
        k = os.write(fd, data[:512])
        data = data[k:]
    if r:
        try:
            if not os.read(fd, 65536):
                break
        except OSError:
            break
_, _, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(int(wall * 1e6), int((usage.ru_utime + usage.ru_stime) * 1e6))
