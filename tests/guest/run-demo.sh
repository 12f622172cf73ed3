#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make demo, in dom0: the narrated demo between dom0 and the domU; its
# lines go to the host as SAY lines.
. /opt/gdmabuf/runner-lib.sh

runner_begin
$G/gdmabuf-demo 2>&1 | while IFS= read -r line; do
	gd_emit SAY "$line"
done
runner_end
