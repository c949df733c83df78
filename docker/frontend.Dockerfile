# Static frontend image: nginx serving the site stevedore built (the build
# context holds dist/ and nginx.conf). The base image is a build arg.
ARG NGINX_IMAGE=nginx:stable-bookworm
FROM ${NGINX_IMAGE}
COPY nginx.conf /etc/nginx/conf.d/default.conf
COPY dist/ /usr/share/nginx/html/
EXPOSE 80
