"""Running a comparison's trainings as child processes, two or more at a
time, resumable."""
import json
import os
import os.path as osp
import re
import shlex
import sys
import signal
import statistics
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Dict, List, Optional, Sequence, Tuple

from ..utils.config import ConfigError, load_config
from ..utils.records import read_json as _read_json
from ..utils.records import write_json as _write_json
from .constants import (DONE_FILE, LAST_CHECKPOINT, LOCK_FILE, LOG_FILE,
                        RUN_FILE)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None
from .planning import Run, parse_cfg_options, validation_rule
from .results import read_val_metrics, recorded_sittings


# -- running ---------------------------------------------------------------
def run_state(run: Run, say: bool = True) -> str:
    """'finished', 'resume' (checkpoint there), 'restart' or 'new';
    ``say``: print why a run with a pointer to a missing checkpoint starts
    again (once per sitting: not when the state is read again).

    Raises SystemExit when the folder holds a run of other settings."""
    recorded = _read_json(osp.join(run.run_dir, RUN_FILE))
    if recorded is None:
        return 'new'
    if other_settings(run, recorded) is not None:
        raise SystemExit(
            f'{run.run_dir} holds a run of other settings:\n'
            f'  there: {recorded.get("config")} {recorded.get("options")}\n'
            f'  now:   {run.config} {run.options}\n'
            'use another --work-dir, or delete that folder')
    done = _read_json(osp.join(run.run_dir, DONE_FILE))
    checkpoint, missing = _checkpoint_to_resume(run.run_dir)
    if done is not None and done.get('returncode') == 0:
        # exit 0 without the final epoch's metrics: resumed from the final
        # checkpoint before FinalValidationHook existed; resuming validates
        metrics = read_val_metrics(run.run_dir)
        if checkpoint and run.epochs and (not metrics
                                          or max(metrics) < run.epochs):
            return 'resume'
        return 'finished'
    if checkpoint:
        return 'resume'
    if missing and say:
        print(f'{osp.join(run.run_dir, LAST_CHECKPOINT)} names {missing}, '
              'which is not there: the run starts again from its first '
              'epoch', flush=True)
    return 'restart'


# the subfolder of a run folder where a restarted run's abandoned start is
# kept (each start in a folder named by when it was set aside)
ABANDONED_DIR = 'abandoned'


def set_aside_abandoned(run_dir: str) -> Optional[str]:
    """Move the records of a run's abandoned start (its mmengine log
    folders, ``run.json``, ``done.json``, ``last_checkpoint``) into
    ``<run_dir>/abandoned/<time>/`` before the run starts again, so that
    the new start's curve, sittings and training time are its own: the old
    start's validations would otherwise stand for the new start's epochs
    until it validates them, and its training time would be added to the
    new start's. Nothing is deleted. Returns the folder, or None when
    there was nothing to move."""
    names = sorted(
        name for name in os.listdir(run_dir)
        if osp.isdir(osp.join(run_dir, name, 'vis_data'))
        or name in (RUN_FILE, DONE_FILE, LAST_CHECKPOINT))
    if not names:
        return None
    base = target = osp.join(run_dir, ABANDONED_DIR,
                             time.strftime('%Y%m%d_%H%M%S'))
    suffix = 0
    while osp.exists(target):  # two set aside within a second
        suffix += 1
        target = f'{base}_{suffix}'
    os.makedirs(target)
    for name in names:
        os.replace(osp.join(run_dir, name), osp.join(target, name))
    print(f'{run_dir}: the abandoned start\'s records ({", ".join(names)}) '
          f'moved to {target}', flush=True)
    return target


def _checkpoint_to_resume(run_dir: str) -> Tuple[bool, Optional[str]]:
    """Whether the run folder holds the checkpoint its ``last_checkpoint``
    names (mmengine resumes from the path written in that file), and the
    name when it does not. A folder moved or renamed with its checkpoints
    (mmengine writes absolute paths) gets its pointer rewritten to the
    checkpoint there; logs copied without their checkpoints (committed
    records, a GPU lease's packed logs) keep a pointer to nothing: such a
    run starts again rather than failing to load a missing file."""
    pointer = osp.join(run_dir, LAST_CHECKPOINT)
    if not osp.isfile(pointer):
        return False, None
    with open(pointer) as f:
        named = f.read().strip()
    if named and osp.isfile(named):
        return True, None
    here = osp.join(run_dir, osp.basename(named)) if named else ''
    if here and osp.isfile(here):
        with open(pointer, 'w') as f:
            f.write(osp.abspath(here))
        print(f'{pointer} named {named}; the checkpoint is in the run '
              f'folder (moved?): it now names {osp.abspath(here)}',
              flush=True)
        return True, None
    return False, named or 'nothing'


def same_settings(config: str, there: List[str], here: List[str]) -> bool:
    """Whether two lists of ``--cfg-options`` give ``config`` the same
    settings: the same list, or the same config once merged (an option in
    another order, or one that sets what the config already has, e.g.
    ``memory_format=channels_last`` in a config that trains so)."""
    if there == here:
        return True
    try:
        merged = [load_config(config, parse_cfg_options(options))
                  for options in (there, here)]
    except (ConfigError, ValueError):
        return False
    return merged[0]._cfg_dict.to_dict() == merged[1]._cfg_dict.to_dict()


def other_settings(run: Run, recorded: dict) -> Optional[str]:
    """How a run folder's record (``run.json``) differs from ``run``'s
    config and options (:func:`same_settings`); None when it does not."""
    if osp.normpath(recorded.get('config', '')) != run.config:
        return f'config {recorded.get("config")}, not {run.config}'
    there = list(recorded.get('options') or [])
    if same_settings(run.config, there, run.options):
        return None
    only_there = [o for o in there if o not in run.options]
    only_here = [o for o in run.options if o not in there]
    return f'trained with {only_there}; this command gives {only_here}'


def settings_mismatches(runs: Sequence[Run]) -> List[str]:
    """For the runs whose folders were trained with other settings than
    these runs' (config or ``--cfg-options``: what :func:`run_state` would
    refuse to resume), what differs: a report read with ``--summarize-only``
    states its command's settings, which may not be the runs'."""
    found = []
    for run in runs:
        recorded = _read_json(osp.join(run.run_dir, RUN_FILE))
        differs = None if recorded is None else other_settings(run, recorded)
        if differs is not None:
            found.append(f'{run.run_dir}: {differs}')
    return found


def lost_validation(run: Run) -> Optional[int]:
    """The epoch of the checkpoint the run resumes from when no metrics of
    it were logged: mmengine saves an epoch's checkpoint before validating
    it, so a sitting stopped in between (the time limit, Ctrl-C, a
    machine's end) loses that validation, and the resumed training would go
    on without it. Whether the training validates at that epoch at all
    (``val_interval``, ``val_begin``, ``dynamic_intervals``) is the
    training's to tell: ``FinalValidationHook(at_resume=True)`` validates
    only where the loop would have. None otherwise."""
    epoch = pointer_epoch(osp.join(run.run_dir, LAST_CHECKPOINT))
    if epoch is None or epoch in read_val_metrics(run.run_dir):
        return None
    return epoch


def pointer_epoch(pointer: str) -> Optional[int]:
    """The epoch of the checkpoint a ``last_checkpoint`` file names
    (``epoch_<k>.pth``); None when the file is missing, being written or
    names another checkpoint (``iter_<n>.pth``)."""
    try:
        with open(pointer) as f:
            found = re.fullmatch(r'epoch_(\d+)\.pth',
                                 osp.basename(f.read().strip()))
    except OSError:
        return None
    return int(found.group(1)) if found else None


def _mtime(path: str) -> Optional[float]:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


# an epoch's expected time is stretched by a tenth before it is judged
# against a time limit (an epoch can take longer than the last one did)
TIME_MARGIN = 1.1


def first_checkpoint_s(run: Run, runs: Sequence[Run],
                       resume: bool) -> Optional[float]:
    """How long a training is likely to take, from its start in a new
    sitting (resumed from its last checkpoint, or from scratch), to its
    next checkpoint, as the records say; None without a record to go by.

    The time per epoch is the run's own (its training time over all
    sittings, ``train_time_total_s``, over its last validated epoch) or,
    for a run with no validated epoch yet, the median of the other runs of
    the same config in ``runs``. The next checkpoint comes after the
    epochs up to the next multiple of the checkpoint interval that the
    planner sets (``default_hooks.checkpoint.interval``)."""

    def per_epoch(other: Run) -> Optional[Tuple[float, int]]:
        done = _read_json(osp.join(other.run_dir, DONE_FILE)) or {}
        total = done.get('train_time_total_s')
        metrics = read_val_metrics(other.run_dir)
        if not total or not metrics:
            return None
        return total / max(metrics), max(metrics)

    own = per_epoch(run)
    if own is not None:
        epoch_s = own[0]
    else:
        rates = [found[0] for found in (
            per_epoch(r) for r in runs
            if r.config == run.config and r.run_dir != run.run_dir)
            if found is not None]
        if not rates:
            return None
        epoch_s = statistics.median(rates)
    last = own[1] if own is not None and resume else 0
    interval = int(parse_cfg_options(run.options).get(
        'default_hooks.checkpoint.interval', 1))
    following = (last // interval + 1) * interval
    if run.epochs:
        following = min(following, run.epochs)
    return epoch_s * max(following - last, 0)


class CheckpointWatch:
    """When a training should stop to meet a time limit with the least
    work lost: just after the last epoch whose checkpoint *and* validation
    come in time. mmengine validates after saving the checkpoint, so a stop
    at the checkpoint itself would leave a hole in the curve, and a final
    epoch saved but not validated costs a validation at the next sitting
    (``FinalValidationHook``).

    An epoch is *ready* once its checkpoint is saved (``last_checkpoint``
    names ``epoch_<k>.pth``) and, if the training validates after it, its
    metrics are logged. At each ready epoch the training goes on only if the
    next one, a measured interval later (between the last two ready epochs,
    or from the start of the sitting to the first), plus a tenth of that
    interval, would be ready before the limit. A training still running at
    the limit is stopped there. Checkpoints not named by epoch
    (``iter_<n>.pth``) are not followed: such a training stops at the
    limit."""

    def __init__(self, run: Run, started: float):
        self.run = run
        self.file = osp.join(run.run_dir, LAST_CHECKPOINT)
        self.seen = _mtime(self.file)  # an earlier sitting's checkpoint
        self.mark = started  # when the last ready epoch was ready
        self.saved: Optional[int] = None  # epoch saved, not yet ready
        # the planner's interval and dynamic intervals; every epoch if none
        self._validates = validation_rule(run.options, run.epochs)

    def _validated(self, epoch: int) -> bool:
        """Whether the training validates after this epoch."""
        return self._validates is None or self._validates(epoch)

    def _new_checkpoint(self) -> Optional[int]:
        """The epoch of a checkpoint saved since the last call, if any."""
        saved = _mtime(self.file)
        if saved is None or saved == self.seen:
            return None
        epoch = pointer_epoch(self.file)
        if epoch is None:  # being written (or not an epoch): look again later
            return None
        self.seen = saved
        return epoch

    def reason_to_stop(self, now: float, limit: float) -> Optional[str]:
        """Why to stop the training now, or None to let it go on."""
        if now >= limit:
            return 'at the time limit'
        epoch = self._new_checkpoint()
        if epoch is not None:
            self.saved = epoch
        if self.saved is None or (
                self._validated(self.saved)
                and self.saved not in read_val_metrics(self.run.run_dir)):
            return None
        epoch, self.saved = self.saved, None
        interval, self.mark = now - self.mark, now
        if epoch != self.run.epochs and now + TIME_MARGIN * interval > limit:
            return (f'after epoch {epoch} (checkpoint and validation), the '
                    'last in time')
        return None


class RunLock:
    """An exclusive lock (``flock``) on a run folder, held while a sitting
    trains into it, so that two sittings (a second command on the same
    ``--work-dir``, a scheduled sitting while the last one still runs) never
    train the same run at once and overwrite each other's checkpoints and
    records.

    The training process inherits the lock: a sitting killed outright
    leaves its training running until that ends (or is killed), and the
    folder stays locked as long. The kernel releases it when the last of
    them exits, so a machine's end leaves no stale lock. The lock file
    (``.lock`` in the run folder) says who holds it, for the message."""

    def __init__(self, run_dir: str):
        self.path = osp.join(run_dir, LOCK_FILE)
        self.fd: Optional[int] = None

    def acquire(self) -> bool:
        """Take the lock if it is free; False when another process holds
        it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
        self.fd = fd
        return True

    def note(self, **info) -> None:
        """Say in the lock file who holds it."""
        text = json.dumps(dict(pid=os.getpid(), **info)).encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, text, 0)

    def holder(self) -> str:
        """Who holds the lock, as its file says."""
        try:
            with open(self.path) as f:
                info = json.loads(f.read() or '{}')
        except (OSError, ValueError):
            info = {}
        parts = [f'{k} {info[k]}' for k in ('pid', 'training_pid', 'since')
                 if info.get(k) is not None]
        return ', '.join(parts) or 'a process'

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # a training still running keeps it locked
            self.fd = None


class Launcher:
    """Runs trainings as child processes, ``jobs`` at a time, and stops
    them all (process groups: the data loader workers too) on Ctrl-C.

    While a training runs, its ``done.json`` is rewritten every
    ``heartbeat_s`` seconds (``returncode`` None, ``running`` true) with the
    training time so far, so that a sitting killed outright (SIGKILL, the
    machine's end) still counts in the run's ``train_time_total_s``.

    ``stop_by`` (a ``time.time()``) is a time limit: each training stops
    after its last epoch in time, checkpoint and validation
    (:class:`CheckpointWatch`, checked every ``poll_s`` seconds), and none
    starts after the limit."""

    def __init__(self, threads: Optional[int], invocation: str, device: str,
                 train_script: str, heartbeat_s: float = 60.0,
                 stop_by: Optional[float] = None, poll_s: float = 5.0):
        self.train_script = train_script
        self.heartbeat_s = heartbeat_s
        self.stop_by = stop_by
        self.poll_s = poll_s
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        if threads is not None:
            for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS',
                        'OPENBLAS_NUM_THREADS'):
                self.env[var] = str(threads)
        self.invocation = invocation
        self.device = device
        self.lock = threading.Lock()
        self.procs: Dict[int, subprocess.Popen] = {}
        self.stopping = False

    def command(self, run: Run, resume: bool = False) -> List[str]:
        script = osp.relpath(self.train_script)
        script = self.train_script if script.startswith('..') else script
        extra = ['validate_at_resume=True'] \
            if resume and lost_validation(run) is not None else []
        return [sys.executable, script, *run.train_args(extra)] + \
            (['--resume'] if resume else [])

    def past_time_limit(self) -> bool:
        return self.stop_by is not None and time.time() >= self.stop_by

    def starts_in_time(self, first_checkpoint_s: Optional[float]) -> bool:
        """Whether a training expected to reach its next checkpoint
        ``first_checkpoint_s`` seconds after its start (None: not known)
        gets there, plus a tenth, before the time limit. One that would
        not stops before it and loses all its work: it should wait for the
        next sitting. Past the limit nothing starts."""
        if self.stop_by is None:
            return True
        if first_checkpoint_s is None:
            return not self.past_time_limit()
        return time.time() + TIME_MARGIN * first_checkpoint_s <= self.stop_by

    def train(self, run: Run, resume: bool,
              planned: Optional[str] = None) -> dict:
        """Train one run to its end (or the time limit) and return its
        ``done.json`` record; ``cancelled`` when stopped or past the limit
        before it started, ``busy`` (who) when another process trains it
        (:class:`RunLock`): then nothing in its folder is written.

        ``planned``: the :func:`run_state` the sitting found before it
        started any training. It is checked again once the lock is held,
        since another sitting may have trained the run in between: one
        finished since is left alone (``finished_elsewhere``), one with a
        checkpoint since is resumed, and a run still to be started again
        ('restart') first has its abandoned start's records set aside
        (:func:`set_aside_abandoned`)."""
        if self.stopping or self.past_time_limit():
            return dict(returncode=None, cancelled=True)
        os.makedirs(run.run_dir, exist_ok=True)
        lock = RunLock(run.run_dir)
        if not lock.acquire():
            return dict(returncode=None, busy=lock.holder())
        try:
            if planned is not None:
                state = run_state(run, say=False)
                if state == 'finished':
                    return dict(returncode=0, finished_elsewhere=True)
                resume = state == 'resume'
                if state == 'restart':
                    set_aside_abandoned(run.run_dir)
            return self._train(run, resume, lock)
        finally:
            lock.release()

    def _train(self, run: Run, resume: bool, lock: RunLock) -> dict:
        lock.note(since=time.strftime('%F %T'))
        command = self.command(run, resume)
        run_file = osp.join(run.run_dir, RUN_FILE)
        sitting = dict(command=shlex.join(command),
                       invocation=self.invocation, device=self.device,
                       threads=self.env.get('OMP_NUM_THREADS'))
        # the top-level command is this sitting's; ``sittings`` keeps every
        # sitting's, so that a resumed run still says how it was started
        sittings = recorded_sittings(_read_json(run_file) or {}) + [
            dict(sitting, started=time.strftime('%F %T'))]
        _write_json(run_file, dict(
            config=run.config, role=run.role, seed=run.seed,
            epochs=run.epochs, options=run.options, val_file=run.val_file,
            holdout=run.holdout, **sitting, sittings=sittings))
        done_file = osp.join(run.run_dir, DONE_FILE)
        # the time of the earlier sittings (finished, stopped or killed)
        previous = (_read_json(done_file) or {}).get('train_time_total_s', 0)
        start = time.time()

        def record(returncode, **extra) -> dict:
            elapsed = time.time() - start
            when = 'updated' if extra.get('running') else 'ended'
            done = dict(returncode=returncode, **extra,
                        train_time_s=elapsed, resumed=resume,
                        **{when: time.strftime('%F %T')},
                        train_time_total_s=previous + elapsed)
            _write_json(done_file, done)
            return done

        with open(osp.join(run.run_dir, LOG_FILE), 'a') as log:
            log.write(f'\n# {time.strftime("%Y-%m-%d %H:%M:%S")} '
                      f'{shlex.join(command)}\n')
            log.flush()
            with self.lock:
                if self.stopping:
                    return dict(returncode=None, cancelled=True)
                proc = subprocess.Popen(command, stdout=log,
                                        stderr=subprocess.STDOUT,
                                        env=self.env, start_new_session=True,
                                        pass_fds=(lock.fd, ))
                self.procs[proc.pid] = proc
            lock.note(since=time.strftime('%F %T'), training_pid=proc.pid)
            watch = None if self.stop_by is None else \
                CheckpointWatch(run, start)
            wait_s = self.heartbeat_s if watch is None else \
                min(self.poll_s, self.heartbeat_s)
            beat, stopped = start, None
            while True:
                try:
                    returncode = proc.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    now = time.time()
                    if watch is not None and stopped is None:
                        stopped = watch.reason_to_stop(now, self.stop_by)
                        if stopped:
                            _terminate([proc])
                    if now - beat >= self.heartbeat_s:
                        record(None, running=True)
                        beat = now
            with self.lock:
                self.procs.pop(proc.pid, None)
        # written after every attempt (returncode 0: finished), so that the
        # training time adds up over interruptions
        extra = dict(time_limit=stopped) if stopped else {}
        return record(returncode, interrupted=self.stopping, **extra)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs.values())
        _terminate(procs)


def _terminate(procs: List[subprocess.Popen]) -> None:
    """SIGTERM the trainings' process groups (the data loader workers
    too), then SIGKILL what is left after 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass
        deadline = time.time() + 10
        while time.time() < deadline and any(p.poll() is None
                                             for p in procs):
            time.sleep(0.2)


def _log_tail(path: str, lines: int = 15) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def default_threads(jobs: int) -> int:
    """OMP/MKL threads of each training when ``--threads`` is not given:
    1 on CPU (one core per run); with CUDA the machine's cores shared among
    the ``jobs`` runs at once (each would otherwise start as many threads as
    there are cores, and six runs on 16 cores would fight over them)."""
    import torch
    if not torch.cuda.is_available():
        return 1
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def train_all(runs: List[Run], args, invocation: str,
              device: str) -> Tuple[bool, int]:
    """Train the runs that are not finished. Returns whether none failed,
    and how many the time limit (``args.stop_by``: a ``time.time()``, or
    None) left unfinished: stopped after an epoch, or not started."""
    states = [run_state(run) for run in runs]  # all checked before any starts
    todo = [(r, s) for r, s in zip(runs, states) if s != 'finished']
    print(f'{len(runs) - len(todo)} of {len(runs)} runs already finished, '
          f'{len(todo)} to train ({args.jobs} at a time)', flush=True)
    if not todo:
        return True, 0
    threads = args.threads
    if threads is None:
        threads = default_threads(args.jobs)
    launcher = Launcher(threads, invocation, device, args.train_script,
                        stop_by=getattr(args, 'stop_by', None))
    print_lock = threading.Lock()
    counter = iter(range(1, len(todo) + 1))

    failed, left = [], []

    def job(run: Run, state: str) -> None:
        if launcher.stopping:
            return
        expected = None if launcher.stop_by is None else \
            first_checkpoint_s(run, runs, resume=state == 'resume')
        if not launcher.starts_in_time(expected):  # the next sitting's
            left.append(run)
            if not launcher.past_time_limit():
                with print_lock:
                    print(f'  not started {run.name} seed {run.seed}: its '
                          'next checkpoint would come about '
                          f'{expected / 60:.1f} min after its start, after '
                          'the time limit', flush=True)
            return
        with print_lock:
            print(f'[{next(counter)}/{len(todo)}] {run.name} seed {run.seed}'
                  f'{" (resumed)" if state == "resume" else ""}: '
                  f'{osp.join(run.run_dir, LOG_FILE)}', flush=True)
        done = launcher.train(run, resume=state == 'resume', planned=state)
        if launcher.stopping:
            return
        if done.get('finished_elsewhere'):
            with print_lock:
                print(f'  {run.name} seed {run.seed}: finished by another '
                      'sitting meanwhile', flush=True)
            return
        if done.get('cancelled'):  # the time limit came first
            left.append(run)
            return
        if done.get('busy'):
            left.append(run)
            with print_lock:
                print(f'  skipped {run.name} seed {run.seed}: another '
                      f'process is training it ({done["busy"]}); this '
                      'sitting leaves it alone', flush=True)
            return
        metrics = read_val_metrics(run.run_dir)
        last = max(metrics) if metrics else None
        values = metrics.get(last, {}) if last else {}
        log = osp.join(run.run_dir, LOG_FILE)
        with print_lock:
            if done.get('time_limit') and done['returncode'] != 0:
                left.append(run)
                print(f'  stopped {run.name} seed {run.seed} '
                      f'{done["time_limit"]} ({done["train_time_s"]:.0f} s;'
                      f' last validated epoch {last}): it resumes from its '
                      'last checkpoint', flush=True)
            elif done['returncode'] == 0:
                print(f'  done {run.name} seed {run.seed} in '
                      f'{done["train_time_s"]:.0f} s: epoch {last} '
                      f'{args.map_key}={values.get(args.map_key)} '
                      f'{args.ap50_key}={values.get(args.ap50_key)}',
                      flush=True)
            else:
                failed.append(run)
                print(f'  FAILED {run.name} seed {run.seed} (exit '
                      f'{done["returncode"]}), end of {log}:\n'
                      f'{_log_tail(log)}', flush=True)

    def on_term(signum, frame):
        raise KeyboardInterrupt
    try:  # SIGTERM stops the trainings as Ctrl-C does
        old_handler = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread
        old_handler = None
    pool = ThreadPoolExecutor(args.jobs)
    try:
        futures = [pool.submit(job, r, s) for r, s in todo]
        for future in as_completed(futures):
            future.result()
    except KeyboardInterrupt:
        print('interrupted: stopping the trainings (run again with the same '
              'arguments to resume)', flush=True)
        launcher.stop()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGTERM, old_handler)
    pool.shutdown()
    return not failed, len(left)
