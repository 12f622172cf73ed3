#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make demo, in dom0: the narrated demo between dom0 and the domU; its
# lines go to the host as SAY lines, and the files it hands over (a
# captured frame) as FILE lines of base64.
. /opt/gdmabuf/runner-lib.sh

TAB=$(printf '\t')
runner_begin
$G/gdmabuf-demo 2>&1 | while IFS= read -r line; do
	case $line in
	"FILE$TAB"*) rest=${line#FILE"$TAB"}; gd_emit FILE "${rest%%"$TAB"*}" "${rest#*"$TAB"}";;
	*) gd_emit SAY "$line";;
	esac
done
runner_end
