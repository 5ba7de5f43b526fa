# app.psgi: a tiny PSGI app for t/0520-starman.t; it answers the segue
# generation it was started in (X-Segue-Generation) and its pid.
# SPDX-License-Identifier: MIT
use strict;
use warnings;

my $generation = $ENV{SEGUE_GENERATION} // '0';

sub {
    my $body = "generation=$generation pid=$$\n";
    return [200, ['Content-Type' => 'text/plain',
                  'Content-Length' => length $body,
                  'X-Segue-Generation' => $generation], [$body]];
};
