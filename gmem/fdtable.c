/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A process's open files (struct files_struct) and struct file reference counting, reduced to
 * what guest_memfd needs: fds 0-2 are taken (stdin, stdout, stderr), a new fd is the lowest free
 * number (get_unused_fd_flags()), and a file is released when its last reference goes (fput();
 * the kernel defers __fput() to task work, kvmsim runs it in the actor that dropped the
 * reference). No tree was read for fs/file.c or fs/file_table.c: this is their documented
 * behaviour, as much of it as guest_memfd.c (ColinIanKing/linux-next at 0726d3e1) relies on.
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

#define GMEM_FIRST_FD 3

/* A new process's table, with stdin, stdout and stderr open. */
GmemFdTable *
gmem_fdtable_new(void)
{
	GmemFdTable *files = g_new0(GmemFdTable, 1);

	files->fds = g_ptr_array_new();
	files->deferred = g_array_new(FALSE, FALSE, sizeof(GmemDeferredFput));
	files->opened = g_ptr_array_new();
	for (int i = 0; i < GMEM_FIRST_FD; i++)
		g_ptr_array_add(files->fds, g_new0(GmemFd, 1)); /* stdin, stdout, stderr */
	return files;
}

/* Closing everything at exit, in fd order. */
void
gmem_fdtable_free(GmemFdTable *files)
{
	if (!files)
		return;
	/* exit_task_work() of every task: releases still pending run first */
	while (files->deferred->len) {
		GmemDeferredFput d = g_array_index(files->deferred, GmemDeferredFput, 0);

		g_array_remove_index(files->deferred, 0);
		kvm_gmem_release(d.file);
	}
	g_array_free(files->deferred, TRUE);
	for (guint fd = GMEM_FIRST_FD; fd < files->fds->len; fd++) {
		GmemFd *entry = g_ptr_array_index(files->fds, fd);

		if (!entry)
			continue;
		/* an actor the run abandoned inside an ioctl holds slots_lock: the release could
		 * never take it, so the file goes with the abandoned ones below */
		if (entry->file && sim_mutex_held(&entry->file->kvm->slots_lock)) {
			g_ptr_array_index(files->fds, fd) = NULL;
			g_free(entry);
			continue;
		}
		gmem_close(files, (int)fd);
	}
	/* what is left was held by an actor the run abandoned inside a call */
	while (files->opened->len)
		gmem_file_abandon(g_ptr_array_index(files->opened, 0));
	g_ptr_array_free(files->opened, TRUE);
	for (guint fd = 0; fd < GMEM_FIRST_FD; fd++)
		g_free(g_ptr_array_index(files->fds, fd));
	g_ptr_array_free(files->fds, TRUE);
	g_free(files);
}

/* Models fd_install() after get_unused_fd_flags(0): the lowest free number. */
int
gmem_fd_install(GmemFdTable *files, struct gmem_file *file)
{
	GmemFd *entry = g_new0(GmemFd, 1);

	entry->file = file;
	for (guint fd = GMEM_FIRST_FD; fd < files->fds->len; fd++) {
		if (!g_ptr_array_index(files->fds, fd)) {
			g_ptr_array_index(files->fds, fd) = entry;
			return (int)fd;
		}
	}
	g_ptr_array_add(files->fds, entry);
	return (int)files->fds->len - 1;
}

/* An open fd of another kind (an eventfd, a socket): f_op is not kvm_gmem_fops. */
int
gmem_fd_install_other(GmemFdTable *files)
{
	return gmem_fd_install(files, NULL);
}

/* The table entry of fd, or NULL if it is not open. */
static GmemFd *
fd_entry(GmemFdTable *files, int fd)
{
	if (!files || fd < 0 || (guint)fd >= files->fds->len)
		return NULL;
	return g_ptr_array_index(files->fds, fd);
}

/* Models fget(): a reference to the file behind fd; -EBADF, or GMEM_FD_NOT_GMEM for an open fd
 * whose f_op is not kvm_gmem_fops (no reference is taken then). */
int
gmem_fget(GmemFdTable *files, int fd, struct gmem_file **out)
{
	GmemFd *entry = fd_entry(files, fd);

	*out = NULL;
	if (!entry)
		return -EBADF;
	if (!entry->file)
		return GMEM_FD_NOT_GMEM;
	gmem_get_file(entry->file);
	*out = entry->file;
	return 0;
}

/* Models get_file(): one more reference on a file that has some. */
void
gmem_get_file(struct gmem_file *file)
{
	g_assert(file->f_count > 0);
	file->f_count++;
}

/* The file behind fd without a reference (inspection only). */
struct gmem_file *
gmem_fd_peek(GmemFdTable *files, int fd)
{
	GmemFd *entry = fd_entry(files, fd);

	return entry ? entry->file : NULL;
}

/* Models get_file_active(): fails once the count reached zero (release may be running). */
gboolean
gmem_get_file_active(struct gmem_file *file)
{
	if (!file || file->f_count == 0)
		return FALSE;
	file->f_count++;
	return TRUE;
}

/* Models fput(): the last reference releases the file (kvm_gmem_release()). */
void
gmem_fput(struct gmem_file *file)
{
	g_assert(file->f_count > 0);
	if (--file->f_count == 0)
		kvm_gmem_release(file);
}

/* Models fput() from a task inside the kernel: the last reference queues __fput() as task
 * work (kvm_gmem_release() takes slots_lock, which a memslot update already holds, and must not
 * run inside a guest fault's SRCU section). */
void
gmem_fput_deferred(struct gmem_file *file)
{
	g_assert(file->f_count > 0);
	if (--file->f_count)
		return;
	GmemFdTable *files = file->kvm->files;
	GmemDeferredFput d = { file, sim_sched_self(file->kvm->sched) };

	g_array_append_val(files->deferred, d);
}

/* Models task_work_run() for the calling actor: its deferred releases, in order. */
void
kvm_gmem_task_work_run(struct kvm *kvm)
{
	GmemFdTable *files = kvm->files;
	gconstpointer self = sim_sched_self(kvm->sched);

	for (guint i = 0; i < files->deferred->len;) {
		GmemDeferredFput d = g_array_index(files->deferred, GmemDeferredFput, i);

		if (d.task != self) {
			i++;
			continue;
		}
		g_array_remove_index(files->deferred, i);
		kvm_gmem_release(d.file);
	}
}

/* Models close_fd(): the fd goes at once, the file with its last reference (close(2)'s __fput
 * runs on the way back to user mode, with nothing else left to do in between). */
int
gmem_close(GmemFdTable *files, int fd)
{
	GmemFd *entry = fd_entry(files, fd);

	if (!entry || fd < GMEM_FIRST_FD)
		return -EBADF;
	g_ptr_array_index(files->fds, fd) = NULL;
	struct gmem_file *file = entry->file;

	g_free(entry);
	if (file)
		gmem_fput(file);
	return 0;
}
