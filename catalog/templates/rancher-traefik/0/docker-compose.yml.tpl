version: '2'
# Rancher renders this file as a Go template (.Values are the answers),
# then substitutes the answers for the $-references. An empty secret answer
# leaves its variable and secret out, so nobody has to create dummy
# secrets: the API key is only needed for the API mode (and Rancher injects
# CATTLE_* keys through the agent labels below), the certificate only when
# not using ACME or Traefik's default.
services:
  traefik:
    image: ${image}
    labels:
      io.rancher.scheduler.global: 'true'
      io.rancher.scheduler.affinity:host_label: ${host_label}
      io.rancher.container.create_agent: 'true'
      # Serving Rancher's certificate store needs the keys, which only the
      # environmentAdmin role's API key may read (Rancher 1.6's
      # projectadmin-auth.json), the role Rancher's own load balancer
      # (rancher/lb-service-haproxy) runs with.
{{- if eq .Values.rancher_certificates "none" }}
      io.rancher.container.agent.role: environment
{{- else }}
      io.rancher.container.agent.role: environmentAdmin
{{- end }}
    ports:
      - ${http_port}:80/tcp
      - ${https_port}:443/tcp
      - ${admin_port}:8000/tcp
    environment:
      TRAEFIK_RANCHER_MODE: ${rancher_mode}
      TRAEFIK_RANCHER_ENDPOINT: ${rancher_endpoint}
{{- if .Values.access_key_secret }}
      TRAEFIK_RANCHER_ACCESSKEY: traefik-access
{{- end }}
{{- if .Values.secret_key_secret }}
      TRAEFIK_RANCHER_SECRET: traefik-secret
{{- end }}
      TRAEFIK_RANCHER_DOMAIN: ${domain}
      TRAEFIK_RANCHER_REFRESH: ${refresh}
      TRAEFIK_RANCHER_EXPOSED: ${exposed}
      TRAEFIK_RANCHER_CONSTRAINTS: ${constraints}
      TRAEFIK_HTTPS_ENABLE: ${https_enable}
      # Redirects name the host's port (the mapping's left side), not 443.
      TRAEFIK_HTTPS_PUBLIC_PORT: ${https_port}
{{- if .Values.ssl_cert_secret }}
      TRAEFIK_SSL_CERT: traefik-cert
{{- end }}
{{- if .Values.ssl_key_secret }}
      TRAEFIK_SSL_PRIVATE_KEY: traefik-key
{{- end }}
      TRAEFIK_ADMIN_AUTH_USERS: ${admin_users}
      TRAEFIK_ADMIN_INSECURE: ${admin_insecure}
      TRAEFIK_ACME_ENABLE: ${acme_enable}
      TRAEFIK_ACME_EMAIL: ${acme_email}
      TRAEFIK_ACME_CHALLENGE: ${acme_challenge}
      TRAEFIK_RANCHER_CERTIFICATES: ${rancher_certificates}
      TRAEFIK_STOP_TIMEOUT: 15s
    stop_grace_period: 15s
{{- if eq .Values.acme_enable "true" }}
    # ACME account and certificates survive upgrades (new containers): a
    # Docker volume on each host, not declared below, so Rancher does not
    # tie the global service to the host of one volume.
    volumes:
      - rancher-traefik-acme:/opt/traefik/acme
{{- end }}
{{- if or .Values.access_key_secret .Values.secret_key_secret .Values.ssl_cert_secret .Values.ssl_key_secret }}
    secrets:
{{- if .Values.access_key_secret }}
      - source: ${access_key_secret}
        target: traefik-access
{{- end }}
{{- if .Values.secret_key_secret }}
      - source: ${secret_key_secret}
        target: traefik-secret
{{- end }}
{{- if .Values.ssl_cert_secret }}
      - source: ${ssl_cert_secret}
        target: traefik-cert
{{- end }}
{{- if .Values.ssl_key_secret }}
      - source: ${ssl_key_secret}
        target: traefik-key
{{- end }}
secrets:
{{- if .Values.access_key_secret }}
  ${access_key_secret}:
    external: true
{{- end }}
{{- if .Values.secret_key_secret }}
  ${secret_key_secret}:
    external: true
{{- end }}
{{- if .Values.ssl_cert_secret }}
  ${ssl_cert_secret}:
    external: true
{{- end }}
{{- if .Values.ssl_key_secret }}
  ${ssl_key_secret}:
    external: true
{{- end }}
{{- end }}
