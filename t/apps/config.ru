# config.ru: a tiny Rack app for t/0510-puma.t; it answers the segue
# generation it was started in (X-Segue-Generation) and its pid.
# SPDX-License-Identifier: MIT
generation = ENV.fetch("SEGUE_GENERATION", "0")
run lambda { |_env|
  body = "generation=#{generation} pid=#{Process.pid}\n"
  [200, { "Content-Type" => "text/plain", "Content-Length" => body.bytesize.to_s,
          "X-Segue-Generation" => generation }, [body]]
}
