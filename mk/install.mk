# mk/install.mk -- "make install" and "make uninstall", included by the
# Makefile.  GNU make.
#
# PREFIX is where eidd lives on the target system (default /usr/local);
# DESTDIR is a staging root put in front of every path and never written
# into a file (packages, tests):
#
#   make install                              # under /usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/st  # a package's tree
#   make uninstall PREFIX=/usr DESTDIR=/tmp/st
#
#   $(BINDIR)        eidctl, eid-mint, eid-load (when built)
#   $(SBINDIR)       eidd
#   $(INCLUDEDIR)/eid  client.h verify.h jose.h
#   $(LIBDIR)        libeidclient.a libeidproto.a libeidverify.a
#   $(PKGCONFIGDIR)  eidclient.pc (from client/eidclient.pc.in)
#   $(UNITDIR)       eidd.service, its /usr/sbin/eidd made $(SBINDIR)/eidd
#   $(MANDIR)        man1/eidctl.1 eid-mint.1 eid-load.1, man5/eidd.conf.5,
#                    man8/eidd.8
#   $(DOCDIR)        eidd.conf.example, examples/verify.py, examples/README.md
#
# The unit goes to $(PREFIX)/lib/systemd/system: systemd searches both
# /usr/lib/systemd/system and /usr/local/lib/systemd/system, so the unit
# is found for PREFIX=/usr and PREFIX=/usr/local alike; UNITDIR overrides
# it (every directory above can be set on its own).  Nothing is installed
# into /etc: the configuration and the keys are the operator's, and
# install only prints where the example is.  uninstall removes the files
# install puts in place, then eidd's own directories if they are empty.

PREFIX		?= /usr/local
DESTDIR		?=
BUILD		?= build
INSTALL		?= install
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
PKGCONFIGDIR	?= $(LIBDIR)/pkgconfig
UNITDIR		?= $(PREFIX)/lib/systemd/system
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/eidd

# eid-load is installed once it is built or is one of the Makefile's PROGS.
INST_LOAD := $(if $(or $(filter $(BUILD)/bin/eid-load,$(PROGS)),\
	$(wildcard $(BUILD)/bin/eid-load)),eid-load)
INST_BIN  := eidctl eid-mint $(INST_LOAD)
INST_SBIN := eidd
INST_HDRS := client.h verify.h jose.h
INST_LIBS := libeidclient.a libeidproto.a libeidverify.a
INST_MAN1 := client/eidctl.1 load/eid-mint.1 $(wildcard load/eid-load.1)
INST_MAN5 := daemon/eidd.conf.5
INST_MAN8 := daemon/eidd.8
INST_DOCS := etc/eidd.conf.example
INST_TMP  := $(BUILD)/install

# Every file install may put in place, for uninstall: eid-load and its
# page included whether or not this tree built them.
INST_FILES = $(addprefix $(BINDIR)/,eidctl eid-mint eid-load) \
	$(SBINDIR)/eidd \
	$(addprefix $(INCLUDEDIR)/eid/,$(INST_HDRS)) \
	$(addprefix $(LIBDIR)/,$(INST_LIBS)) \
	$(PKGCONFIGDIR)/eidclient.pc \
	$(UNITDIR)/eidd.service \
	$(addprefix $(MANDIR)/man1/,eidctl.1 eid-mint.1 eid-load.1) \
	$(MANDIR)/man5/eidd.conf.5 $(MANDIR)/man8/eidd.8 \
	$(DOCDIR)/eidd.conf.example \
	$(addprefix $(DOCDIR)/examples/,README.md verify.py)

# The version, from the daemon's header, for the pkg-config file.
INST_VERSION := $(shell sed -n \
	's/^.define[[:space:]]*EIDD_VERSION[[:space:]]*"\([^"]*\)".*/\1/p' \
	daemon/eidd.h 2>/dev/null)
# libdir and includedir relative to ${prefix} when they are under it, so
# that "pkg-config --define-prefix" can relocate the tree.
inst_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))

# $(call inst_file,MODE,SOURCE,TARGET): one line of output, one install.
define inst_file
	$(call msg,INSTALL,$(DESTDIR)$(strip $(3)))
	$(Q)$(INSTALL) -D -m $(strip $(1)) $(strip $(2)) $(DESTDIR)$(strip $(3))

endef

.PHONY: install uninstall

install: $(addprefix $(BUILD)/bin/,$(INST_BIN) $(INST_SBIN)) \
    $(addprefix $(BUILD)/lib/,$(INST_LIBS))
	@mkdir -p $(INST_TMP)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' \
	    -e 's|@LIBDIR@|$(call inst_rel,$(LIBDIR))|g' \
	    -e 's|@INCLUDEDIR@|$(call inst_rel,$(INCLUDEDIR))|g' \
	    -e 's|@VERSION@|$(INST_VERSION)|g' \
	    client/eidclient.pc.in > $(INST_TMP)/eidclient.pc
	$(Q)sed -e 's|/usr/sbin/eidd|$(SBINDIR)/eidd|g' etc/eidd.service \
	    > $(INST_TMP)/eidd.service
	$(foreach f,$(INST_BIN),\
	    $(call inst_file,0755,$(BUILD)/bin/$(f),$(BINDIR)/$(f)))
	$(foreach f,$(INST_SBIN),\
	    $(call inst_file,0755,$(BUILD)/bin/$(f),$(SBINDIR)/$(f)))
	$(foreach f,$(INST_HDRS),\
	    $(call inst_file,0644,include/eid/$(f),$(INCLUDEDIR)/eid/$(f)))
	$(foreach f,$(INST_LIBS),\
	    $(call inst_file,0644,$(BUILD)/lib/$(f),$(LIBDIR)/$(f)))
	$(call inst_file,0644,$(INST_TMP)/eidclient.pc,\
	    $(PKGCONFIGDIR)/eidclient.pc)
	$(call inst_file,0644,$(INST_TMP)/eidd.service,$(UNITDIR)/eidd.service)
	$(foreach f,$(INST_MAN1),\
	    $(call inst_file,0644,$(f),$(MANDIR)/man1/$(notdir $(f))))
	$(foreach f,$(INST_MAN5),\
	    $(call inst_file,0644,$(f),$(MANDIR)/man5/$(notdir $(f))))
	$(foreach f,$(INST_MAN8),\
	    $(call inst_file,0644,$(f),$(MANDIR)/man8/$(notdir $(f))))
	$(foreach f,$(INST_DOCS),\
	    $(call inst_file,0644,$(f),$(DOCDIR)/$(notdir $(f))))
	$(call inst_file,0644,examples/README.md,$(DOCDIR)/examples/README.md)
	$(call inst_file,0755,examples/verify.py,$(DOCDIR)/examples/verify.py)
	@echo "eidd: nothing was installed into /etc.  To run it under systemd:"
	@echo "  copy $(DOCDIR)/eidd.conf.example to /etc/eidd/eidd.conf"
	@echo "  and follow eidd(8), section SYSTEMD (user, keys, daemon-reload)."

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INST_FILES))
	$(Q)for d in $(INCLUDEDIR)/eid $(DOCDIR)/examples $(DOCDIR); do \
	    if [ -d "$(DESTDIR)$$d" ]; then \
		rmdir "$(DESTDIR)$$d" 2>/dev/null || \
		echo "uninstall: $(DESTDIR)$$d not empty, kept" >&2; \
	    fi; \
	done
