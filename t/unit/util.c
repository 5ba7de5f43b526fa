/* t/unit/util.c: unit tests for the pidfile helpers: symlinks and races. */
/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/util.h"
#include "../tap.h"

static char dir[] = "/tmp/segue-unit-util.XXXXXX";

static const char *in_dir(const char *name)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_NOFOLLOW);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? "(unreadable)" : buf;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		diag("writing %s failed", path);
}

static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_write(void)
{
	const char *victim = in_dir("root-only");
	const char *pidfile = in_dir("segue.pid");
	char tmp[300], want[32];
	struct stat st;

	put(victim, "secret\n");
	/* The temporary name that write_pidfile used to pick. */
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", pidfile, (long)getpid());
	ok(symlink(victim, tmp) == 0, "a symlink planted where the temporary file was made");
	is_int(0, write_pidfile(pidfile, 4242), "write_pidfile");
	is_string("secret\n", slurp(victim), "the file behind the symlink is untouched");
	ok(lstat(pidfile, &st) == 0 && S_ISREG(st.st_mode), "the pidfile is a regular file");
	is_string("4242\n", slurp(pidfile), "holding the pid");
	is_int(0644, (long long)(st.st_mode & 07777), "mode 0644");
	unlink(tmp);

	/* A symlink at the pidfile's own name is replaced, never followed. */
	unlink(pidfile);
	ok(symlink(victim, pidfile) == 0, "the pidfile's name is a symlink");
	is_int(0, write_pidfile(pidfile, 4343), "write_pidfile");
	is_string("secret\n", slurp(victim), "the file behind it is untouched");
	ok(lstat(pidfile, &st) == 0 && S_ISREG(st.st_mode), "the symlink is replaced by a file");
	snprintf(want, sizeof(want), "%d\n", 4343);
	is_string(want, slurp(pidfile), "which holds the pid");
	is_int(2, entries(), "no temporary file is left behind");

	errno = 0;
	is_int(-1, write_pidfile(in_dir("missing/segue.pid"), 1), "a missing directory fails");
	is_int(ENOENT, errno, "with ENOENT");
}

static void test_remove(void)
{
	const char *pidfile = in_dir("r.pid");
	const char *mine = in_dir("mine");
	char text[32];

	ok(write_pidfile(pidfile, 1000) == 0, "a pidfile for pid 1000");
	is_int(0, remove_pidfile(pidfile, 2000), "pid 2000 leaves it alone");
	is_string("1000\n", slurp(pidfile), "it still holds 1000");
	is_int(1, remove_pidfile(pidfile, 1000), "pid 1000 removes it");
	ok(access(pidfile, F_OK) < 0, "it is gone");
	is_int(0, remove_pidfile(pidfile, 1000), "a missing pidfile: nothing to do");

	snprintf(text, sizeof(text), "%d\n", 1000);
	put(mine, text);
	ok(symlink(mine, pidfile) == 0, "a symlink to a file holding the pid");
	is_int(0, remove_pidfile(pidfile, 1000), "a symlink is left alone");
	ok(access(mine, F_OK) == 0, "so is the file behind it");
	unlink(pidfile);

	static const struct {
		const char *text, *what;
	} bad[] = {
	    {"1000x", "1000x"},		  {"1000 ", "1000 and a space"},
	    {"1000\n\n", "two newlines"}, {"", "empty"},
	    {"-1000", "-1000"},		  {"1000.0", "1000.0"},
	    {"10000\n", "10000"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(pidfile, bad[i].text);
		is_int(0, remove_pidfile(pidfile, 1000), "%s is not pid 1000", bad[i].what);
	}
	put(pidfile, "1000");
	is_int(1, remove_pidfile(pidfile, 1000), "\"1000\" without a newline is pid 1000");

	ok(mkfifo(pidfile, 0600) == 0, "a FIFO at the pidfile's name");
	is_int(0, remove_pidfile(pidfile, 1000), "a FIFO is left alone, without hanging");
	unlink(pidfile);
	ok(mkdir(pidfile, 0700) == 0, "a directory at the pidfile's name");
	is_int(0, remove_pidfile(pidfile, 1000), "a directory is left alone");
	rmdir(pidfile);
}

int main(void)
{
	plan_lazy();
	alarm(20);
	umask(022);
	if (!mkdtemp(dir))
		skip_all("no temporary directory");
	test_write();
	test_remove();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
