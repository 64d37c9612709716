/**
 * Stand-in for `npm run demo` until the demo composer lands (issue #4): explains how to run the sidecar in
 * front of an upstream you already have.
 */
console.log(`The demo composer is not part of this build yet.

Run the sidecar in front of any HTTP server or composer instead:

  printf '%s' "$(head -c 24 /dev/urandom | base64)" > /tmp/metrics-token && chmod 600 /tmp/metrics-token
  npm start -- --upstream http://127.0.0.1:8000 --listen 127.0.0.1:8080 \\
               --metrics-listen 127.0.0.1:9464 --metrics-token-file /tmp/metrics-token

then send traffic to http://127.0.0.1:8080 and scrape:

  curl -H "Authorization: Bearer $(cat /tmp/metrics-token)" http://127.0.0.1:9464/metrics
`);
