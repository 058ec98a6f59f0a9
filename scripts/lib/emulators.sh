# Sourced by scripts/test and scripts/load: installs the provider emulators (moto for SES v2,
# Prism serving Twilio's OpenAPI description, an aiosmtpd SMTP sink) and starts them on free
# loopback ports.
# Also starts the SMTP sink (tests/emulators/smtp_sink.py, aiosmtpd). Sets NOTIFY_TEST_MOTO_URL,
# NOTIFY_TEST_PRISM_URL, NOTIFY_TEST_SMTP_PORT and NOTIFY_TEST_SMTP_DIR; stops everything it
# started on exit.

twilio_spec="${TWILIO_OPENAPI_SPEC:-$root/../shared/emulators/twilio/twilio-messages.json}"
if [ ! -f "$twilio_spec" ]; then
  echo "Twilio's OpenAPI description is not at $twilio_spec" >&2
  echo "  (it lives in shared/emulators/twilio/ beside this repository; set TWILIO_OPENAPI_SPEC to point elsewhere)" >&2
  exit 1
fi

emulators="$root/.emulators"
mkdir -p "$emulators"

# moto (and schemathesis) in their own virtualenv, reinstalled when the requirements change.
if ! cmp -s tests/emulators/requirements.txt "$emulators/venv/installed-requirements.txt" 2>/dev/null; then
  echo "installing moto and schemathesis..." >&2
  rm -rf "$emulators/venv"
  python3 -m venv "$emulators/venv"
  "$emulators/venv/bin/pip" install --quiet --disable-pip-version-check -r tests/emulators/requirements.txt
  cp tests/emulators/requirements.txt "$emulators/venv/installed-requirements.txt"
fi

# Prism, versions pinned by the lock file.
if ! cmp -s tests/emulators/package-lock.json tests/emulators/node_modules/.installed-lock.json 2>/dev/null; then
  echo "installing Prism..." >&2
  npm ci --prefix tests/emulators --no-audit --no-fund --loglevel=error
  cp tests/emulators/package-lock.json tests/emulators/node_modules/.installed-lock.json
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pids=()
stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_started EXIT

wait_for() { # name url log
  for _ in $(seq 1 150); do
    if curl -s -o /dev/null "$2"; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not start; its log follows" >&2
  cat "$3" >&2
  exit 1
}

moto_port="$(free_port)"
"$emulators/venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$emulators/moto.log" 2>&1 &
pids+=("$!")
prism_port="$(free_port)"
tests/emulators/node_modules/.bin/prism mock -h 127.0.0.1 -p "$prism_port" "$twilio_spec" >"$emulators/prism.log" 2>&1 &
pids+=("$!")
smtp_port="$(free_port)"
smtp_dir="$emulators/smtp-mail"
rm -rf "$smtp_dir"
"$emulators/venv/bin/python" tests/emulators/smtp_sink.py "$smtp_port" "$smtp_dir" >"$emulators/smtp.log" 2>&1 &
pids+=("$!")
wait_for moto "http://127.0.0.1:$moto_port/moto-api/" "$emulators/moto.log"
wait_for prism "http://127.0.0.1:$prism_port/" "$emulators/prism.log"

export NOTIFY_TEST_MOTO_URL="http://127.0.0.1:$moto_port"
export NOTIFY_TEST_PRISM_URL="http://127.0.0.1:$prism_port"
for _ in $(seq 1 100); do
  python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $smtp_port), 1)" 2>/dev/null && break
  sleep 0.1
done
export NOTIFY_TEST_SMTP_PORT="$smtp_port"
export NOTIFY_TEST_SMTP_DIR="$smtp_dir"
