# frontail for docker compose: the same pinned version as the native run
# (package-lock.json), serving the file the rsyslog image writes into the
# shared volume /var/log/thoughts.
#   docker build -f logs/frontail.Dockerfile logs
FROM node:20-bookworm-slim

WORKDIR /opt/frontail
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

USER node
EXPOSE 9001
# -h is the address to listen on (not help); no usage statistics are sent.
ENTRYPOINT ["/opt/frontail/node_modules/.bin/frontail", "-h", "0.0.0.0", "-p", "9001", "-n", "1000", "--ui-highlight", "--disable-usage-stats"]
CMD ["/var/log/thoughts/syslog"]
