"""A jupyter_client kernel manager whose kernels start inside a bubblewrap sandbox (``bubblewrap``).

``SandboxKernelManager`` is nbclient's ``kernel_manager_class`` when ``GradingExecute.sandbox`` is on.
Its kernels use ``ipc`` sockets: the kernel binds them in ``/run/kernel`` inside its sandbox, and the
grader reaches them as ``/proc/<sandbox init>/root/run/kernel/...``, so the grader and the kernel
share no writable folder and no network. An interrupt is a message on the control channel
(``interrupt_mode = "message"``: ipykernel then sends SIGINT to its own process group inside the
sandbox); a kill is SIGKILL to bubblewrap, whose death takes the whole sandbox with it.

Launch options (``start_kernel(**options)``, passed through by nbclient): ``sandbox_files`` (the
folder whose files are copied into the scratch), ``sandbox_limits`` (a ``bubblewrap.Limits``) and
``sandbox_packages`` (folders bound read-only).
"""

import os
import resource
import uuid

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

from . import bubblewrap


_warned = []


class SandboxProvisioner(LocalProvisioner):
    """``LocalProvisioner`` whose command runs under bubblewrap; exit status as bubblewrap reports it."""

    cap = None
    child_pid = None

    async def launch_kernel(self, cmd, **kwargs):
        files = kwargs.pop("sandbox_files", None)
        limits = kwargs.pop("sandbox_limits", None) or bubblewrap.Limits()
        packages = kwargs.pop("sandbox_packages", ())
        bwrap = kwargs.pop("sandbox_bwrap", "bwrap")
        extra_files = kwargs.pop("sandbox_extra_files", None)
        kwargs.pop("cwd", None)                      # the sandbox's own folder is the working directory
        km = self.parent
        # ``-f <connection file>``: the kernel reads the copy inside its sandbox
        cmd = [bubblewrap.INSIDE_CONNECTION if arg == km.connection_file else arg for arg in cmd]
        launch = bubblewrap.command(limits.in_sandbox(cmd), files_from=files, connection_file=km.connection_file, limits=limits,
                                    packages=packages, bwrap=bwrap, extra_files=extra_files)
        self.cap = bubblewrap.ProcessCap.make(limits.processes)
        if self.cap is None and limits.processes and os.geteuid() == 0 and not _warned:
            _warned.append(True)
            self.log.warning("grading as root with no writable pids cgroup: Linux does not apply RLIMIT_NPROC to "
                             "root, so a sandboxed kernel's processes are not limited in number; grade as an "
                             "ordinary user, or give the grader a pids cgroup (/sys/fs/cgroup/pids)")
        rlimits = limits.rlimits()
        cap = self.cap

        def before_exec():
            if cap is not None:
                cap.enter()
            for which, value in rlimits.items():
                resource.setrlimit(which, value)

        kwargs["preexec_fn"] = before_exec
        kwargs["pass_fds"] = launch.pass_fds
        kwargs["cwd"] = "/"
        try:
            info = await super().launch_kernel(launch.args, **kwargs)
        finally:
            launch.close_parent_fds()
        self.child_pid = bubblewrap.read_child_pid(launch.info_fd)
        if self.child_pid is not None:
            info = dict(info)
            info["ip"] = f"/proc/{self.child_pid}/root{bubblewrap.INSIDE_RUN}/k"
            self.connection_info = info
            km.ip = info["ip"]
        return info

    async def cleanup(self, restart=False):
        await super().cleanup(restart)
        if self.cap is not None:
            self.cap.close()
            self.cap = None


class SandboxKernelManager(AsyncKernelManager):
    """nbclient's kernel manager with every kernel in its own sandbox (``SandboxProvisioner``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = f"{bubblewrap.INSIDE_RUN}/k"
        self.cache_ports = False

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = SandboxProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel
