# nsecrelay in a container: the relay and bunker on port 7777, state in the /data volume.
# Not built in CI here (no registry for base images on that machine): build and try it yourself.
#   docker build -t nsecrelay .
#   docker run -d --name nsecrelay -p 127.0.0.1:7777:7777 -v nsecrelay:/data nsecrelay \
#     start --host 0.0.0.0 --data /data --public-url wss://relay.example.com
#   docker exec -it nsecrelay nsecrelay key create alice --data /data
FROM node:20-bookworm-slim AS build
# the native secp256k1 addon builds against Debian's libsecp256k1 (else the wasm fallback serves)
RUN apt-get update \
  && apt-get install -y --no-install-recommends libsecp256k1-dev python3 make g++ ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY native ./native
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY relay ./relay
COPY plugin ./plugin
COPY src ./src
COPY tsconfig.json ./

FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends libsecp256k1-1 \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /data && chown node:node /data && chmod 700 /data
COPY --from=build --chown=root:root /app /app
RUN ln -s /app/bin/nsecrelay.mjs /usr/local/bin/nsecrelay
ENV NSECRELAY_DATA=/data NSECRELAY_LOG_FORMAT=json
USER node
WORKDIR /app
VOLUME /data
EXPOSE 7777
ENTRYPOINT ["nsecrelay"]
CMD ["start", "--host", "0.0.0.0", "--data", "/data"]
